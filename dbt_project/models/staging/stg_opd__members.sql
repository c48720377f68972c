-- The latest member list per cooperative (raw keeps every load).
with latest_list as (
    select cooperative_nik, _source_sha256
    from {{ source('raw', 'opd_members') }}
    where _source_sha256 in {{ current_files() }}
    group by cooperative_nik, _source_sha256
    qualify row_number() over (partition by cooperative_nik order by max(list_date) desc, max(_ingested_at) desc) = 1
)

select
    m.cooperative_nik,
    m.list_date,
    m.member_key,
    m.employment_status,
    m.employment_status = 'ASN' as is_asn,
    m.joined_date,
    coalesce(m.principal_savings, 0) as principal_savings,
    coalesce(m.mandatory_savings, 0) as mandatory_savings,
    m.owns_house
from {{ source('raw', 'opd_members') }} as m
inner join latest_list as l using (cooperative_nik, _source_sha256)
