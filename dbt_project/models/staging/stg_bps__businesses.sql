-- The current rows: the latest load per region, census year and business scale (the registry's rule).
select region_code, year, scale, businesses, _source_file as source_file
from {{ source('raw', 'current_bps_businesses') }}
