-- The current registry list: one row per OPD, its latest listing (the registry's rule).
select
    opd_code,
    opd_name,
    cooperative_name,
    cooperative_nik,
    list_date
from {{ source('raw', 'current_opd_cooperatives') }}
