-- The report's headline figures per reporting year and scope (the public contract), before publication: the
-- quality gate checks this candidate and published.report_summary publishes it. "all" sums every
-- base with a submission in force, "top10" the ten best ranked of the candidate ranking. Always
-- computed from fct_base_year, never from self-reported totals.
with base_years as (

    select * from {{ ref('fct_base_year') }}
    where submitted

),

ranking as (

    select * from {{ ref('candidate_park_ranking') }}

),

top10_bases as (

    -- Ties share a rank ("1224"), so a tie at 10th place can put more than ten bases in scope,
    -- exactly as the ranking reads.
    select ranking.reporting_year, ranking.base_code
    from ranking
    where ranking.ranked and ranking.rank <= 10

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
        -- The mean published score of the scope's ranked bases, rounded as the report rounds it.
        cast(round(avg(ranked_scores.score), 3) as decimal(9, 3)) as avg_score
    from reporting_years
    cross join scopes
    left join scoped
        on scoped.reporting_year = reporting_years.reporting_year
        and scoped.scope = scopes.scope
    left join ranking as ranked_scores
        on ranked_scores.reporting_year = scoped.reporting_year
        and ranked_scores.base_code = scoped.base_code
        and ranked_scores.ranked
    group by reporting_years.reporting_year, scopes.scope

)

select * from final
