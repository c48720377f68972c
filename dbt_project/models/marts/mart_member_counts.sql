-- Members by snapshot, region, cooperative type and sex, against the population of that sex.
with members as (
    unpivot (
        select snapshot_date, region_code, cooperative_type,
               sum(members_male) as male, sum(members_female) as female
        from {{ ref('fct_cooperative_snapshot') }}
        group by all
    )
    on male, female
    into name sex value members
),

population as (
    select region_code, sex, population
    from {{ ref('stg_bps__population') }}
    where year = (select max(year) from {{ ref('stg_bps__population') }})
)

select
    m.snapshot_date,
    m.region_code,
    r.region_name,
    m.cooperative_type,
    m.sex::varchar as sex,
    m.members::bigint as members,
    p.population::bigint as population,
    round(m.members * 1000.0 / nullif(p.population, 0), 3)::double as members_per_1000_inhabitants,
    round(m.members / sum(m.members) over (partition by m.snapshot_date), 6)::double as share_of_province
from members as m
inner join {{ ref('dim_region') }} as r on r.region_code = m.region_code
left join population as p on p.region_code = m.region_code and p.sex = m.sex
