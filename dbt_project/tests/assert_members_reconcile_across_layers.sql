{{ config(meta={'dagster': {'ref': {'name': 'mart_member_counts'}}, 'required_for_publication': true,
                 'steward': 'Per snapshot, jumlah koperasi dan anggota sama di data ODS, tabel fakta dan mart jumlah anggota'}) }}
-- Per snapshot, members and cooperatives agree across staging (the snapshot's current file),
-- fct_cooperative_snapshot and mart_member_counts. Any row returned is a mismatch.
with raw_totals as (
    select snapshot_date, count(*) as cooperatives, sum(members_total) as members
    from {{ ref('stg_ods__cooperatives') }}
    group by snapshot_date
),

fact_totals as (
    select snapshot_date, count(*) as cooperatives, sum(members_total) as members
    from {{ ref('fct_cooperative_snapshot') }}
    group by snapshot_date
),

mart_totals as (
    select snapshot_date, sum(members) as members
    from {{ ref('mart_member_counts') }}
    group by snapshot_date
),

health_totals as (
    select snapshot_date, count(*) as cooperatives
    from {{ ref('mart_cooperative_health') }}
    group by snapshot_date
)

select r.snapshot_date, r.cooperatives, f.cooperatives as fact_cooperatives, h.cooperatives as health_cooperatives,
       r.members, f.members as fact_members, m.members as mart_members
from raw_totals as r
full outer join fact_totals as f using (snapshot_date)
full outer join mart_totals as m using (snapshot_date)
full outer join health_totals as h using (snapshot_date)
where r.cooperatives is distinct from f.cooperatives
   or r.cooperatives is distinct from h.cooperatives
   or r.members is distinct from f.members
   or r.members is distinct from m.members
