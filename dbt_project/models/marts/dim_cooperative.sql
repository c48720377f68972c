-- Each cooperative ever registered, in its latest known state, with the snapshots it was seen in.
with history as (
    select
        cooperative_nik,
        min(snapshot_date) as first_snapshot_seen,
        max(snapshot_date) as last_snapshot_seen,
        count(*)::bigint as snapshots_seen
    from {{ ref('fct_cooperative_snapshot') }}
    group by cooperative_nik
),

latest as (
    select *
    from {{ ref('fct_cooperative_snapshot') }}
    qualify row_number() over (partition by cooperative_nik order by snapshot_date desc) = 1
)

select
    l.cooperative_nik,
    l.cooperative_name,
    l.legal_entity_number,
    l.legal_entity_date,
    l.region_code,
    l.district,
    l.cooperative_type,
    l.cooperative_group,
    l.cooperative_form,
    l.is_active,
    l.last_rat_year,
    l.members_total,
    h.first_snapshot_seen,
    h.last_snapshot_seen,
    h.snapshots_seen,
    h.last_snapshot_seen = (select max(snapshot_date) from {{ ref('fct_cooperative_snapshot') }}) as is_in_latest_snapshot
from latest as l
inner join history as h using (cooperative_nik)
