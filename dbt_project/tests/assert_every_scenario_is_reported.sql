{{ config(meta={'dagster': {'ref': {'name': 'mart_consolidation_scenario'}}, 'required_for_publication': true,
                 'steward': 'Setiap skenario koperasi sekunder di tabel acuan tampil di mart skenario'}) }}
-- Every scenario of the seed has a row in the mart, also one whose OPDs match no cooperative.
select distinct s.scenario_id
from {{ ref('seed_consolidation_scenarios') }} as s
left join {{ ref('mart_consolidation_scenario') }} as m using (scenario_id)
where m.scenario_id is null
