-- Cooperatives per health band and RAT compliance, per region and snapshot.
select
    h.snapshot_date,
    h.region_code,
    r.region_name,
    count(*)::bigint as cooperatives,
    count(*) filter (where h.is_active)::bigint as active_cooperatives,
    count(*) filter (where h.health_band = 'Sehat')::bigint as sehat,
    count(*) filter (where h.health_band = 'Cukup Sehat')::bigint as cukup_sehat,
    count(*) filter (where h.health_band = 'Dalam Pengawasan')::bigint as dalam_pengawasan,
    count(*) filter (where h.health_band = 'Dalam Pengawasan Khusus')::bigint as dalam_pengawasan_khusus,
    count(*) filter (where h.health_band is null)::bigint as not_scored,
    count(*) filter (where h.rat_held_last_year)::bigint as rat_held,
    round(count(*) filter (where h.rat_held_last_year) / count(*), 4)::double as rat_compliance_rate,
    count(*) filter (where h.rat_virtual)::bigint as virtual_rat,
    count(*) filter (where h.has_nik_certificate)::bigint as with_nik_certificate,
    round(avg(h.total_score), 2)::double as average_score
from {{ ref('mart_cooperative_health') }} as h
inner join {{ ref('dim_region') }} as r on r.region_code = h.region_code
group by all
