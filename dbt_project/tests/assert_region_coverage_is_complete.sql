{{ config(meta={'dagster': {'ref': {'name': 'mart_umkm_coverage'}},
                 'steward': 'Setiap kabupaten/kota provinsi punya data penduduk dan usaha SE2016 di mart cakupan UMKM'}) }}
-- Every region of the province has population and SE2016 businesses in the coverage mart.
select region_code from {{ ref('mart_umkm_coverage') }}
where population is null or umk_businesses is null
union all
select 'expected ' || (select count(*) from {{ ref('stg_reference__regions') }}) || ' regions, found ' || count(*)
from {{ ref('mart_umkm_coverage') }}
having count(*) <> (select count(*) from {{ ref('stg_reference__regions') }})
