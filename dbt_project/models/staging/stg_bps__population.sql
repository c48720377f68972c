-- Latest load per region, year and sex.
select region_code, year, sex, population, _source_file as source_file
from {{ source('raw', 'bps_population') }}
where _source_sha256 in {{ current_files() }}
qualify row_number() over (partition by region_code, year, sex order by _ingested_at desc) = 1
