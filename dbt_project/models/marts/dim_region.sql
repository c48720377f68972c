-- The kabupaten/kota of the province with both code systems and the denominators the marts use.
with population as (
    select region_code, sum(population)::bigint as population, max(year) as population_year
    from {{ ref('stg_bps__population') }}
    where year = (select max(year) from {{ ref('stg_bps__population') }})
    group by region_code
),

-- The latest economic census only: adding a later census must replace the figures, not add to them.
businesses as (
    select
        region_code,
        sum(businesses) filter (where scale = 'UMK')::bigint as umk_businesses,
        sum(businesses) filter (where scale = 'UMB')::bigint as umb_businesses
    from {{ ref('stg_bps__businesses') }}
    where year = (select max(year) from {{ ref('stg_bps__businesses') }})
    group by region_code
)

select
    r.region_code::varchar as region_code,
    r.kemendagri_code::varchar as kemendagri_code,
    r.region_name::varchar as region_name,
    r.kemendagri_name::varchar as region_full_name,
    r.bps_name::varchar as bps_name,
    r.region_kind::varchar as region_kind,
    r.province_code::varchar as province_code,
    r.province_name::varchar as province_name,
    r.kemendagri_reference::varchar as kemendagri_reference,
    coalesce(p.population, r.population_total_2024)::bigint as population,
    p.population_year::integer as population_year,
    b.umk_businesses,
    b.umb_businesses
from {{ ref('stg_reference__regions') }} as r
left join population as p on p.region_code = r.region_code
left join businesses as b on b.region_code = r.region_code
