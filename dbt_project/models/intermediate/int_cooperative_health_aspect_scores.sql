-- Score of each aspect that could be computed: weighted mean of its indicators' scores (seed thresholds).
{{ snapshot_incremental_config() }}

with indicator_values as (
    unpivot (
        select * exclude (built_at) from {{ ref('int_cooperative_health_indicators') }}
        where snapshot_date in {{ changed_snapshots(ref('int_cooperative_health_indicators')) }}
    )
    on equity_to_assets, external_to_own_capital, rat_held, volume_to_assets, surplus_to_assets, member_growth
    into name indicator value indicator_value
),

indicator_scores as (
    select
        v.snapshot_date,
        v.cooperative_nik,
        i.aspect,
        i.weight_in_aspect,
        s.score
    from indicator_values as v
    inner join {{ ref('seed_health_indicators') }} as i on i.indicator = v.indicator
    inner join {{ ref('seed_health_indicator_scores') }} as s
        on s.indicator = v.indicator and v.indicator_value >= s.lower_bound and v.indicator_value < s.upper_bound
)

select
    sc.snapshot_date,
    sc.cooperative_nik,
    sc.aspect,
    a.weight::double as aspect_weight,
    sum(sc.weight_in_aspect * sc.score) / sum(sc.weight_in_aspect) as aspect_score,
    {{ build_timestamp() }} as built_at
from indicator_scores as sc
inner join {{ ref('seed_health_aspects') }} as a on a.aspect = sc.aspect and a.computable_from_ods
group by sc.snapshot_date, sc.cooperative_nik, sc.aspect, a.weight
