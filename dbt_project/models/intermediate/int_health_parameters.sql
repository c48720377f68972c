-- The scoring parameters as one row, so models can cross join them, and a fingerprint of every health seed:
-- when any of them changes, the incremental models re-score every snapshot, not only new ones.
with fingerprint as (
    select md5(concat_ws('|',
        (select string_agg(p::varchar, ';' order by p::varchar) from {{ ref('seed_health_parameters') }} as p),
        (select string_agg(i::varchar, ';' order by i::varchar) from {{ ref('seed_health_indicators') }} as i),
        (select string_agg(s::varchar, ';' order by s::varchar) from {{ ref('seed_health_indicator_scores') }} as s),
        (select string_agg(a::varchar, ';' order by a::varchar) from {{ ref('seed_health_aspects') }} as a)
    )) as parameters_fingerprint
)

select
    max(case when parameter = 'band_sehat_min' then value end)::double as band_sehat_min,
    max(case when parameter = 'band_cukup_sehat_min' then value end)::double as band_cukup_sehat_min,
    max(case when parameter = 'band_dalam_pengawasan_min' then value end)::double as band_dalam_pengawasan_min,
    max(case when parameter = 'active_rat_within_years' then value end)::integer as active_rat_within_years,
    max(case when parameter = 'rat_held_within_years' then value end)::integer as rat_held_within_years,
    (select parameters_fingerprint from fingerprint) as parameters_fingerprint
from {{ ref('seed_health_parameters') }}
