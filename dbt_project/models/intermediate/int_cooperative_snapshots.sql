-- Registry rows with what needs the history or the parameters: previous member count, the active rule.
select
    s.*,
    lag(s.members_total) over (partition by s.cooperative_nik order by s.snapshot_date) as members_previous_snapshot,
    coalesce(s.last_rat_year >= year(s.snapshot_date) - p.active_rat_within_years, false) as is_active,
    coalesce(s.last_rat_year >= year(s.snapshot_date) - 1, false) as rat_held_last_year
from {{ ref('stg_ods__cooperatives') }} as s
cross join {{ ref('int_health_parameters') }} as p
