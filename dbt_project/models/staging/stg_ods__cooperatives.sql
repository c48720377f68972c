-- One row per cooperative per snapshot, from the snapshot's current file (the ingestion gate decides which
-- file that is: a re-export replaces the previous file only once it has passed its checks).
with current_rows as (
    select *
    from {{ source('raw', 'ods_cooperatives') }}
    where _source_sha256 in {{ current_files() }}
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
