-- Per scenario, the secondary cooperative (koperasi sekunder) that would result from its OPD cooperatives,
-- from the latest registry snapshot: eligibility, distinct members, housing demand, money, health.
-- Every scenario of the seed has a row, also one whose OPDs match no cooperative (ineligible, zero members).
with latest as (
    select max(snapshot_date) as snapshot_date from {{ ref('fct_cooperative_snapshot') }}
),

scenarios as (
    select distinct scenario_id, scenario_name from {{ ref('seed_consolidation_scenarios') }}
),

member_cooperatives as (
    select
        sc.scenario_id,
        sc.scenario_name,
        sc.cooperative_nik,
        coalesce(f.cooperative_name, sc.listed_cooperative_name) as cooperative_name,
        f.cooperative_nik is not null as found_in_registry,
        f.own_capital,
        f.external_capital,
        f.assets,
        f.business_volume,
        f.surplus,
        h.total_score,
        h.health_band
    from {{ ref('int_scenario_cooperatives') }} as sc
    cross join latest
    left join {{ ref('fct_cooperative_snapshot') }} as f
        on f.cooperative_nik = sc.cooperative_nik and f.snapshot_date = latest.snapshot_date
    left join {{ ref('mart_cooperative_health') }} as h
        on h.cooperative_nik = sc.cooperative_nik and h.snapshot_date = latest.snapshot_date
),

combined as (
    select
        s.scenario_id,
        s.scenario_name,
        count(mc.cooperative_nik)::bigint as member_cooperatives,
        count(mc.cooperative_nik) filter (where mc.found_in_registry)::bigint as member_cooperatives_in_registry,
        string_agg(cooperative_name, '; ' order by cooperative_name) as member_cooperative_names,
        coalesce(sum(own_capital), 0)::bigint as own_capital,
        coalesce(sum(external_capital), 0)::bigint as external_capital,
        coalesce(sum(assets), 0)::bigint as assets,
        coalesce(sum(business_volume), 0)::bigint as business_volume,
        coalesce(sum(surplus), 0)::bigint as surplus,
        -- Asset-weighted: a large member cooperative weighs more in the secondary's health.
        round(coalesce(sum(total_score * assets) / nullif(sum(assets) filter (where total_score is not null), 0),
                       avg(total_score)), 2) as combined_health_score,
        round(min(total_score), 2) as weakest_member_score,
        string_agg(cooperative_name || ': ' || coalesce(total_score::varchar, 'n/a') || ' (' || coalesce(health_band, 'not scored') || ')',
                   '; ' order by cooperative_name) as member_health
    from scenarios as s
    left join member_cooperatives as mc using (scenario_id)
    group by s.scenario_id, s.scenario_name
)

select
    c.scenario_id::varchar as scenario_id,
    c.scenario_name::varchar as scenario_name,
    (select snapshot_date from latest) as snapshot_date,
    c.member_cooperatives,
    c.member_cooperatives_in_registry,
    c.member_cooperative_names::varchar as member_cooperative_names,
    -- UU 25/1992 Art. 6: a secondary cooperative needs at least three member cooperatives; only those that
    -- exist in the registry count (an OPD list may name a cooperative ODS does not know).
    c.member_cooperatives_in_registry >= 3 as is_legally_eligible,
    coalesce(m.memberships, 0)::bigint as memberships,
    coalesce(m.distinct_members, 0)::bigint as distinct_members,
    coalesce(m.asn_members, 0)::bigint as asn_members,
    coalesce(m.non_asn_members, 0)::bigint as non_asn_members,
    coalesce(m.members_without_house, 0)::bigint as members_without_house,
    coalesce(m.members_house_unknown, 0)::bigint as members_house_unknown,
    coalesce(m.total_savings, 0)::bigint as total_savings,
    c.own_capital,
    c.external_capital,
    c.assets,
    c.business_volume,
    c.surplus,
    c.combined_health_score::double as combined_health_score,
    {{ health_band('c.combined_health_score', 'p') }} as combined_health_band,
    c.weakest_member_score::double as weakest_member_score,
    c.member_health::varchar as member_health
from combined as c
cross join {{ ref('int_health_parameters') }} as p
left join {{ ref('int_scenario_members') }} as m on m.scenario_id = c.scenario_id
