-- Which OPD cooperatives each consolidation scenario brings together ('*' = every OPD in the registry).
select distinct
    s.scenario_id,
    s.scenario_name,
    c.opd_code,
    c.cooperative_nik,
    c.cooperative_name as listed_cooperative_name
from {{ ref('seed_consolidation_scenarios') }} as s
inner join {{ ref('stg_opd__cooperatives') }} as c
    on c.opd_code = s.opd_code or s.opd_code = '*'
