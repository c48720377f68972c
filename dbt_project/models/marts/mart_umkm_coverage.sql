-- Where cooperatives are missing compared with the small businesses BPS counted (SE2016) and the population:
-- rank 1 is where development effort is most needed.
with latest as (
    select max(snapshot_date) as snapshot_date from {{ ref('fct_cooperative_snapshot') }}
),

cooperatives as (
    select
        f.region_code,
        count(*)::bigint as cooperatives,
        count(*) filter (where f.is_active)::bigint as active_cooperatives,
        sum(f.members_total)::bigint as members
    from {{ ref('fct_cooperative_snapshot') }} as f
    inner join latest using (snapshot_date)
    group by f.region_code
),

coverage as (
    select
        r.region_code,
        r.region_name,
        r.region_kind,
        (select snapshot_date from latest) as snapshot_date,
        r.population,
        r.umk_businesses,
        r.umb_businesses,
        coalesce(c.cooperatives, 0)::bigint as cooperatives,
        coalesce(c.active_cooperatives, 0)::bigint as active_cooperatives,
        coalesce(c.members, 0)::bigint as members,
        round(coalesce(c.cooperatives, 0) * 1000.0 / nullif(r.umk_businesses, 0), 3)::double as cooperatives_per_1000_umk,
        round(coalesce(c.active_cooperatives, 0) * 1000.0 / nullif(r.umk_businesses, 0), 3)::double as active_cooperatives_per_1000_umk,
        round(coalesce(c.members, 0) * 1000.0 / nullif(r.population, 0), 3)::double as members_per_1000_inhabitants
    from {{ ref('dim_region') }} as r
    left join cooperatives as c using (region_code)
),

ranked as (
    select
        *,
        rank() over (order by active_cooperatives_per_1000_umk asc nulls first)
        + rank() over (order by members_per_1000_inhabitants asc nulls first) as coverage_rank_sum
    from coverage
)

select
    region_code, region_name, region_kind, snapshot_date, population, umk_businesses, umb_businesses,
    cooperatives, active_cooperatives, members, cooperatives_per_1000_umk, active_cooperatives_per_1000_umk,
    members_per_1000_inhabitants,
    -- Lowest coverage first on both measures; ties go to the region with more small businesses to serve.
    (rank() over (order by coverage_rank_sum, umk_businesses desc))::bigint as development_priority_rank
from ranked
