-- One row per cooperative per registry snapshot, carrying the canonical ODS fields.
{{ snapshot_incremental_config() }}

select
    snapshot_date,
    cooperative_nik,
    cooperative_name,
    legal_entity_number,
    legal_entity_date,
    region_code,
    district,
    coalesce(cooperative_type, 'Tidak diketahui') as cooperative_type,
    cooperative_group,
    cooperative_form,
    is_active,
    is_active_ods,
    last_rat_year,
    rat_held_last_year,
    rat_virtual,
    members_male,
    members_female,
    members_total,
    members_previous_snapshot,
    managers,
    employees,
    own_capital,
    external_capital,
    assets,
    business_volume,
    surplus,
    has_nik_certificate,
    source_file,
    source_row,
    {{ build_timestamp() }} as built_at
from {{ ref('int_cooperative_snapshots') }}
where snapshot_date in {{ changed_snapshots(ref('int_cooperative_snapshots')) }}
