-- The latest registry list: one row per OPD.
select
    opd_code,
    opd_name,
    cooperative_name,
    cooperative_nik,
    list_date
from {{ source('raw', 'opd_cooperatives') }}
where _source_sha256 in {{ current_files() }}
qualify row_number() over (partition by opd_code order by list_date desc, _ingested_at desc) = 1
