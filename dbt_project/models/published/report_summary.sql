-- The report's headline figures per reporting year and scope (BRIEF §6): "all" sums every base
-- with a submission in force, "top10" the ten best ranked. Always computed from fct_base_year,
-- never from self-reported totals.
--
-- TEMPORARY: until the ranking (published.park_ranking) exists, the top 10 of a year come from
-- the seed provisional_top10, and avg_score is NULL.
with base_years as (

    select * from {{ ref('fct_base_year') }}
    where submitted

),

provisional_top10 as (

    select * from {{ ref('provisional_top10') }}

),

top10_bases as (

    select distinct
        base_years.reporting_year,
        base_years.base_code
    from provisional_top10
    inner join base_years
        on base_years.reporting_year = provisional_top10.reporting_year
        and (
            base_years.base_code = {{ normalise_base_code('provisional_top10.base_code') }}
            or (
                nullif(trim(provisional_top10.base_code), '') is null
                and {{ match_key('base_years.base_name_zh') }} = {{ match_key('provisional_top10.base_name_zh') }}
            )
        )

),

scoped as (

    select 'all' as scope, base_years.*
    from base_years
    union all
    select 'top10' as scope, base_years.*
    from base_years
    inner join top10_bases
        on top10_bases.reporting_year = base_years.reporting_year
        and top10_bases.base_code = base_years.base_code

),

reporting_years as (

    select distinct reporting_year from {{ ref('fct_base_year') }}

),

scopes as (

    select 'all' as scope
    union all
    select 'top10' as scope

),

final as (

    select
        reporting_years.reporting_year,
        scopes.scope,
        cast(count(scoped.base_code) as bigint) as bases,
        cast(sum(scoped.enterprises_in_park) as bigint) as enterprises_in_park,
        cast(sum(scoped.returnees_in_park) as bigint) as returnees_in_park,
        cast(sum(scoped.incubated_cum) as bigint) as incubated_cum,
        cast(sum(scoped.high_tech_cum) as bigint) as high_tech_cum,
        cast(sum(scoped.little_giants_cum) as bigint) as little_giants_cum,
        cast(sum(scoped.listed_cum) as bigint) as listed_cum,
        cast(sum(scoped.returnees_cum) as bigint) as returnees_cum,
        cast(sum(scoped.talent_national) as bigint) as talent_national,
        cast(sum(scoped.talent_provincial) as bigint) as talent_provincial,
        cast(sum(scoped.revenue_yuan) as decimal(18, 2)) as revenue_yuan,
        cast(sum(scoped.tax_yuan) as decimal(18, 2)) as tax_yuan,
        cast(sum(scoped.service_events) as bigint) as service_events,
        cast(sum(scoped.vc_yuan) as decimal(18, 2)) as vc_yuan,
        cast(sum(scoped.fiscal_yuan) as decimal(18, 2)) as fiscal_yuan,
        -- The mean published score of the scope's ranked bases: NULL until the ranking exists.
        cast(null as decimal(9, 3)) as avg_score
    from reporting_years
    cross join scopes
    left join scoped
        on scoped.reporting_year = reporting_years.reporting_year
        and scoped.scope = scopes.scope
    group by reporting_years.reporting_year, scopes.scope

)

select * from final
