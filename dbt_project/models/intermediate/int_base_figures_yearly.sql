-- Each base's figures for each year it has a submission in force, computed from the rosters
-- exactly as docs/figures.md defines them (never from the base's self-reported totals).
with in_force as (

    select * from {{ ref('int_submissions_in_force') }}

),

base_parts as (

    select * from {{ ref('stg_base') }}

),

company_figures as (

    select
        submission_id,
        sum(case when is_returnee_enterprise and is_in_park then 1 else 0 end) as enterprises_in_park,
        sum(case when is_returnee_enterprise and is_incubated then 1 else 0 end) as incubated_cum,
        sum(case when is_returnee_enterprise and is_incubated and is_high_tech then 1 else 0 end) as high_tech_cum,
        sum(case when is_returnee_enterprise and is_incubated and is_little_giant then 1 else 0 end) as little_giants_cum,
        sum(case when is_returnee_enterprise and is_incubated and is_listed then 1 else 0 end) as listed_cum,
        sum(case when is_returnee_enterprise then coalesce(revenue_yuan, 0) else 0 end) as revenue_yuan,
        sum(case when is_returnee_enterprise then coalesce(tax_yuan, 0) else 0 end) as tax_yuan
    from {{ ref('int_company_years_flagged') }}
    group by submission_id

),

talent_figures as (

    select
        submission_id,
        sum(case when is_in_park then 1 else 0 end) as returnees_in_park,
        sum(case when is_absorbed then 1 else 0 end) as returnees_cum,
        sum(case when is_absorbed and talent_programme_code = 'national_major' then 1 else 0 end) as talent_national,
        sum(case when is_absorbed and talent_programme_code = 'provincial' then 1 else 0 end) as talent_provincial
    from {{ ref('int_talent_years_flagged') }}
    group by submission_id

),

funding_figures as (

    select
        submission_id,
        sum(case when is_to_returnee_enterprise and is_in_reporting_year and is_venture_capital
            then coalesce(amount_yuan, 0) else 0 end) as vc_yuan,
        sum(case when is_to_returnee_enterprise and is_in_reporting_year and is_fiscal
            then coalesce(amount_yuan, 0) else 0 end) as fiscal_yuan
    from {{ ref('int_funding_events_classified') }}
    group by submission_id

),

base_part as (

    select submission_id, max(service_events) as service_events
    from base_parts
    group by submission_id

),

final as (

    select
        in_force.base_code,
        in_force.reporting_year,
        in_force.submission_id,
        cast(coalesce(company_figures.enterprises_in_park, 0) as bigint) as enterprises_in_park,
        cast(coalesce(talent_figures.returnees_in_park, 0) as bigint) as returnees_in_park,
        cast(coalesce(company_figures.incubated_cum, 0) as bigint) as incubated_cum,
        cast(coalesce(company_figures.high_tech_cum, 0) as bigint) as high_tech_cum,
        cast(coalesce(company_figures.little_giants_cum, 0) as bigint) as little_giants_cum,
        cast(coalesce(company_figures.listed_cum, 0) as bigint) as listed_cum,
        cast(coalesce(talent_figures.returnees_cum, 0) as bigint) as returnees_cum,
        cast(coalesce(talent_figures.talent_national, 0) as bigint) as talent_national,
        cast(coalesce(talent_figures.talent_provincial, 0) as bigint) as talent_provincial,
        cast(coalesce(company_figures.revenue_yuan, 0) as decimal(18, 2)) as revenue_yuan,
        cast(coalesce(company_figures.tax_yuan, 0) as decimal(18, 2)) as tax_yuan,
        cast(base_part.service_events as bigint) as service_events,
        cast(coalesce(funding_figures.vc_yuan, 0) as decimal(18, 2)) as vc_yuan,
        cast(coalesce(funding_figures.fiscal_yuan, 0) as decimal(18, 2)) as fiscal_yuan
    from in_force
    left join company_figures
        on company_figures.submission_id = in_force.submission_id
    left join talent_figures
        on talent_figures.submission_id = in_force.submission_id
    left join funding_figures
        on funding_figures.submission_id = in_force.submission_id
    left join base_part
        on base_part.submission_id = in_force.submission_id

)

select * from final
