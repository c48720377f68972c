-- The scoring parameters as one row, so models can cross join them.
select
    max(case when parameter = 'band_sehat_min' then value end)::double as band_sehat_min,
    max(case when parameter = 'band_cukup_sehat_min' then value end)::double as band_cukup_sehat_min,
    max(case when parameter = 'band_dalam_pengawasan_min' then value end)::double as band_dalam_pengawasan_min,
    max(case when parameter = 'active_rat_within_years' then value end)::integer as active_rat_within_years
from {{ ref('seed_health_parameters') }}
