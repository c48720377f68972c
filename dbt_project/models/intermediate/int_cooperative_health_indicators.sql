-- The ratios ODS data can support, per cooperative and snapshot; null where a denominator is zero or missing.
{{ snapshot_incremental_config() }}

select
    snapshot_date,
    cooperative_nik,
    {{ safe_ratio('own_capital', 'assets') }} as equity_to_assets,
    {{ safe_ratio('external_capital', 'own_capital') }} as external_to_own_capital,
    case when rat_held_last_year then 1.0 else 0.0 end as rat_held,
    {{ safe_ratio('business_volume', 'assets') }} as volume_to_assets,
    {{ safe_ratio('surplus', 'assets') }} as surplus_to_assets,
    {{ safe_ratio('members_total', 'members_previous_snapshot') }} - 1 as member_growth,
    {{ build_timestamp() }} as built_at
from {{ ref('int_cooperative_snapshots') }}
where snapshot_date in {{ changed_snapshots(ref('int_cooperative_snapshots')) }}
