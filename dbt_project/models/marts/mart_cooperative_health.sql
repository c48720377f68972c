-- Health per cooperative and snapshot: flags, ratios, aspect scores, total score and band,
-- and the aspects ODS data cannot support.
{{ snapshot_incremental_config() }}

with not_computable as (
    select string_agg(aspect, ', ' order by aspect) as aspects
    from {{ ref('seed_health_aspects') }}
    where not computable_from_ods
)

select
    s.snapshot_date,
    s.cooperative_nik,
    s.cooperative_name,
    s.region_code,
    s.cooperative_type,
    s.is_active,
    s.rat_held_last_year,
    s.rat_virtual,
    s.has_nik_certificate,
    s.equity_to_assets,
    s.external_to_own_capital,
    s.volume_to_assets,
    s.surplus_to_assets,
    s.member_growth,
    s.score_capital,
    s.score_management,
    s.score_efficiency,
    s.score_independence_growth,
    s.total_score::double as total_score,
    {{ health_band('s.total_score', 'p') }} as health_band,
    s.aspects_computed,
    n.aspects as aspects_not_computable,
    {{ build_timestamp() }} as built_at
from {{ ref('int_cooperative_health_scores') }} as s
cross join {{ ref('int_health_parameters') }} as p
cross join not_computable as n
where s.snapshot_date in {{ changed_snapshots(ref('int_cooperative_health_scores')) }}
