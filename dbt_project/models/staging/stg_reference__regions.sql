-- The kabupaten/kota of the province the warehouse serves (KOPERASI_PROVINCE, default vars.default_province),
-- with the Dukcapil population where the office has it.
select
    r.region_code,
    r.kemendagri_code,
    r.province_code,
    r.province_name,
    r.bps_name,
    r.kemendagri_name,
    r.region_kind,
    r.region_name,
    r.kemendagri_reference,
    p.population_total_2024
from {{ ref('seed_regions') }} as r
left join {{ ref('seed_region_population') }} as p using (region_code)
where r.province_code = '{{ env_var("KOPERASI_PROVINCE", var("default_province")) }}'
