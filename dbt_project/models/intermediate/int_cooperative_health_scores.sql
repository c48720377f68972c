-- Total score per cooperative and snapshot, rescaled to 0-100 over the aspects that could be computed.
{{ snapshot_incremental_config() }}

with aspect_scores as (
    select * from {{ ref('int_cooperative_health_aspect_scores') }}
    where snapshot_date in {{ changed_snapshots(ref('int_cooperative_snapshots')) }}
),

totals as (
    select
        snapshot_date,
        cooperative_nik,
        sum(aspect_weight * aspect_score) / sum(aspect_weight) as total_score,
        string_agg(aspect, ', ' order by aspect) as aspects_computed,
        max(case when aspect = 'capital' then aspect_score end) as score_capital,
        max(case when aspect = 'management' then aspect_score end) as score_management,
        max(case when aspect = 'efficiency' then aspect_score end) as score_efficiency,
        max(case when aspect = 'independence_growth' then aspect_score end) as score_independence_growth
    from aspect_scores
    group by snapshot_date, cooperative_nik
)

select
    c.snapshot_date,
    c.cooperative_nik,
    c.cooperative_name,
    c.region_code,
    c.cooperative_type,
    c.is_active,
    c.rat_held_last_year,
    c.rat_virtual,
    c.has_nik_certificate,
    c.assets,
    i.equity_to_assets,
    i.external_to_own_capital,
    i.volume_to_assets,
    i.surplus_to_assets,
    i.member_growth,
    t.score_capital,
    t.score_management,
    t.score_efficiency,
    t.score_independence_growth,
    round(t.total_score, 2) as total_score,
    t.aspects_computed,
    {{ build_timestamp() }} as built_at
from {{ ref('int_cooperative_snapshots') }} as c
inner join {{ ref('int_cooperative_health_indicators') }} as i using (snapshot_date, cooperative_nik)
left join totals as t using (snapshot_date, cooperative_nik)
where c.snapshot_date in {{ changed_snapshots(ref('int_cooperative_snapshots')) }}
