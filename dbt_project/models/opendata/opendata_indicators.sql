-- The office's open data in the Satu Data portal's long shape: one row per indicator, kabupaten/kota and period,
-- on the Kemendagri code (kode_wilayah) with the BPS code beside it. Built from the marts only; the indicators,
-- their titles, units and small-cell rule are the seed seed_opendata_indicators.
with per_region as (
    select
        snapshot_date,
        region_code,
        count(*) as jumlah_koperasi,
        count(*) filter (where is_active) as jumlah_koperasi_aktif,
        sum(members_total) as jumlah_anggota_koperasi,
        sum(members_male) as jumlah_anggota_koperasi_laki_laki,
        sum(members_female) as jumlah_anggota_koperasi_perempuan,
        count(*) filter (where rat_held_last_year) as jumlah_koperasi_rat,
        count(*) filter (where rat_virtual) as jumlah_koperasi_rat_daring
    from {{ ref('fct_cooperative_snapshot') }}
    group by snapshot_date, region_code
),

bands as (
    select
        snapshot_date,
        region_code,
        count(*) filter (where health_band = 'Sehat') as jumlah_koperasi_sehat,
        count(*) filter (where health_band = 'Cukup Sehat') as jumlah_koperasi_cukup_sehat,
        count(*) filter (where health_band = 'Dalam Pengawasan') as jumlah_koperasi_dalam_pengawasan,
        count(*) filter (where health_band = 'Dalam Pengawasan Khusus') as jumlah_koperasi_dalam_pengawasan_khusus
    from {{ ref('mart_cooperative_health') }}
    group by snapshot_date, region_code
),

wide as (
    select
        p.*,
        b.* exclude (snapshot_date, region_code),
        p.jumlah_koperasi * 1000.0 / r.population as koperasi_per_1000_penduduk,
        p.jumlah_anggota_koperasi * 1000.0 / r.population as anggota_koperasi_per_1000_penduduk
    from per_region as p
    left join bands as b using (snapshot_date, region_code)
    inner join {{ ref('dim_region') }} as r using (region_code)
),

long as (
    unpivot (select * replace (
        {%- for column in ['jumlah_koperasi', 'jumlah_koperasi_aktif', 'jumlah_anggota_koperasi', 'jumlah_anggota_koperasi_laki_laki',
                           'jumlah_anggota_koperasi_perempuan', 'jumlah_koperasi_rat', 'jumlah_koperasi_rat_daring',
                           'jumlah_koperasi_sehat', 'jumlah_koperasi_cukup_sehat', 'jumlah_koperasi_dalam_pengawasan',
                           'jumlah_koperasi_dalam_pengawasan_khusus', 'koperasi_per_1000_penduduk',
                           'anggota_koperasi_per_1000_penduduk'] %}
        {{ column }}::double as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}), jumlah_koperasi as koperasi_di_wilayah from wide)
    on columns(* exclude (snapshot_date, region_code, koperasi_di_wilayah))
    into name indikator value data
)

select
    r.kemendagri_code as kode_wilayah,
    r.region_code as kode_bps,
    r.region_kind as level_wilayah,
    r.region_full_name as nama_wilayah,
    l.indikator,
    m.judul,
    m.satuan,
    year(l.snapshot_date)::integer as tahun,
    l.snapshot_date as periode,
    round(l.data, 2)::double as data
from long as l
inner join {{ ref('dim_region') }} as r using (region_code)
inner join {{ ref('seed_opendata_indicators') }} as m using (indikator)
-- Small cells: an indicator that could single out a cooperative's members (by sex) is left out for a region with
-- fewer cooperatives than the seed's disembunyikan_bila_koperasi_kurang_dari.
where m.disembunyikan_bila_koperasi_kurang_dari is null
   or l.koperasi_di_wilayah >= m.disembunyikan_bila_koperasi_kurang_dari
