{{ config(meta={'dagster': {'ref': {'name': 'mart_umkm_coverage'}},
                 'steward': 'Ke-33 kabupaten/kota punya data penduduk dan usaha SE2016 di mart cakupan UMKM'}) }}
-- Every one of the 33 regions has population and SE2016 businesses in the coverage mart.
select region_code from {{ ref('mart_umkm_coverage') }}
where population is null or umk_businesses is null
union all
select 'expected 33 regions, found ' || count(*) from {{ ref('mart_umkm_coverage') }} having count(*) <> 33
