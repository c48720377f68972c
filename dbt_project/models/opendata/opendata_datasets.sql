-- One row per open dataset (indicator): its metadata after Peraturan BPS 5/2020, in Indonesian, from the seeds;
-- the parameters a definition names are filled in from seed_health_parameters, the province from dim_region.
with publisher as (
    select
        max(nilai) filter (where kunci = 'produsen_data') as produsen_data,
        max(nilai) filter (where kunci = 'penanggung_jawab') as penanggung_jawab,
        max(nilai) filter (where kunci = 'kontak') as kontak,
        max(nilai) filter (where kunci = 'lisensi') as lisensi,
        max(nilai) filter (where kunci = 'lisensi_judul') as lisensi_judul,
        max(nilai) filter (where kunci = 'kode_referensi') as kode_referensi,
        max(nilai) filter (where kunci = 'kata_kunci') as kata_kunci
    from {{ ref('seed_opendata_publisher') }}
),

province as (
    select any_value(province_code) as kode_provinsi, any_value(province_name) as nama_provinsi,
           string_agg(distinct kemendagri_reference, '; ') as daftar_kemendagri
    from {{ ref('dim_region') }}
),

coverage as (
    select indikator, count(*) as baris, min(periode) as periode_awal, max(periode) as periode_akhir
    from {{ ref('opendata_indicators') }}
    group by indikator
)

{%- set parameters = ['active_rat_within_years', 'rat_held_within_years', 'band_sehat_min', 'band_cukup_sehat_min',
                      'band_dalam_pengawasan_min'] %}
{%- set filled = {} %}
{%- for column in ['definisi', 'rumus'] %}
    {%- set ns = namespace(sql='m.' ~ column) %}
    {%- for parameter in parameters %}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ parameter ~ "}', " ~ parameter ~ "::integer::varchar)" %}
    {%- endfor %}
    {%- do filled.update({column: ns.sql}) %}
{%- endfor %}

select
    m.indikator,
    m.urutan::integer as urutan,
    m.judul,
    m.satuan,
    m.konsep,
    {{ filled['definisi'] }} as definisi,
    {{ filled['rumus'] }} as rumus,
    m.interpretasi,
    m.frekuensi,
    m.sumber,
    m.disembunyikan_bila_koperasi_kurang_dari::integer as disembunyikan_bila_koperasi_kurang_dari,
    pub.produsen_data || ' Provinsi ' || prov.nama_provinsi as produsen_data,
    pub.penanggung_jawab,
    pub.kontak,
    pub.lisensi,
    pub.lisensi_judul,
    pub.kode_referensi || ' (' || prov.daftar_kemendagri || ')' as kode_referensi,
    pub.kata_kunci,
    prov.kode_provinsi,
    prov.nama_provinsi,
    coalesce(c.baris, 0)::bigint as baris,
    c.periode_awal,
    c.periode_akhir
from {{ ref('seed_opendata_indicators') }} as m
cross join publisher as pub
cross join province as prov
cross join {{ ref('int_health_parameters') }}
left join coverage as c using (indikator)
