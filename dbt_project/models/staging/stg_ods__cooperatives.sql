-- One row per cooperative per snapshot, from the snapshot's current file and its corrections (the ingestion
-- gate decides which: a re-export replaces the previous file, a correction merges, once it passed its checks).
with current_rows as (
    select * from {{ source('raw', 'current_ods_cooperatives') }}
)

select
    snapshot_date,
    cooperative_nik,
    cooperative_name,
    legal_entity_number,
    legal_entity_date,
    region_code,
    district,
    cooperative_type,
    cooperative_group,
    cooperative_form,
    is_active as is_active_ods,
    last_rat_year,
    coalesce(rat_virtual, false) as rat_virtual,
    members_male,
    members_female,
    members_male + members_female as members_total,
    managers,
    employees,
    own_capital,
    external_capital,
    assets,
    business_volume,
    surplus,
    coalesce(has_nik_certificate, false) as has_nik_certificate,
    _source_file as source_file,
    _source_sha256 as source_sha256,
    _source_row as source_row,
    _ingested_at as ingested_at
from current_rows
