{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_cooperative_snapshot'}},
                 'steward': 'Peringatan: di snapshot ini terlalu banyak koperasi yang disebut aktif oleh ODS padahal tidak RAT dalam batas waktu aturan aktif'}) }}
-- For a steward, not a gate: snapshots where more than 5% of the cooperatives ODS calls active have held no
-- RAT within the active rule's window (the rule is_active applies, from seed_health_parameters).
select
    snapshot_date,
    count(*) filter (where is_active_ods and not is_active) as active_in_ods_without_recent_rat,
    count(*) as cooperatives
from {{ ref('fct_cooperative_snapshot') }}
group by snapshot_date
having count(*) filter (where is_active_ods and not is_active) > {{ var('ods_active_without_rat_share_max') }} * count(*)
