-- Members of the secondary cooperative each scenario would create: a person in two member cooperatives
-- (same pseudonymous key) counts once; savings add up over all their memberships.
with memberships as (
    select sc.scenario_id, m.*
    from {{ ref('int_scenario_cooperatives') }} as sc
    inner join {{ ref('stg_opd__members') }} as m using (cooperative_nik)
),

people as (
    select
        scenario_id,
        member_key,
        bool_or(is_asn) as is_asn,
        bool_or(owns_house) as owns_house,
        count(*) as memberships,
        sum(principal_savings + mandatory_savings) as savings
    from memberships
    group by scenario_id, member_key
)

select
    scenario_id,
    sum(memberships)::bigint as memberships,
    count(*)::bigint as distinct_members,
    count(*) filter (where is_asn)::bigint as asn_members,
    count(*) filter (where not is_asn)::bigint as non_asn_members,
    count(*) filter (where owns_house = false)::bigint as members_without_house,
    count(*) filter (where owns_house is null)::bigint as members_house_unknown,
    sum(savings)::bigint as total_savings
from people
group by scenario_id
