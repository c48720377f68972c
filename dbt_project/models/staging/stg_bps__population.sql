-- The current rows: the latest load per region, year and sex (the registry's rule).
select region_code, year, sex, population, _source_file as source_file
from {{ source('raw', 'current_bps_population') }}
