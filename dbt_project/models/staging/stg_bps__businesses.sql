-- Latest load per region, census year and business scale.
select region_code, year, scale, businesses, _source_file as source_file
from {{ source('raw', 'bps_businesses') }}
where _source_sha256 in {{ current_files() }}
qualify row_number() over (partition by region_code, year, scale order by _ingested_at desc) = 1
