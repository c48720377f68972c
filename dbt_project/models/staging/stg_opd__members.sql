-- The latest member list of each cooperative, as a whole (the registry's rule; raw keeps every load).
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
from {{ source('raw', 'current_opd_members') }} as m
