-- A subset never exceeds its total: of the incubated enterprises, the high-tech, little giants,
-- listed and those still in the base; of the returnees absorbed, those still in the base and
-- those in a talent programme; and the top 10 never exceed all bases. Returns every breach.
-- Dagster shows it as a check of candidate_report_summary, the table it guards.
{{ config(meta={'dagster': {'ref': {'name': 'candidate_report_summary'}}}) }}

with base_years as (

    select * from {{ ref('fct_base_year') }}
    where submitted

),

base_breaches as (

    select base_code, reporting_year, 'high_tech_cum > incubated_cum' as breach
    from base_years where high_tech_cum > incubated_cum
    union all
    select base_code, reporting_year, 'little_giants_cum > incubated_cum'
    from base_years where little_giants_cum > incubated_cum
    union all
    select base_code, reporting_year, 'listed_cum > incubated_cum'
    from base_years where listed_cum > incubated_cum
    union all
    select base_code, reporting_year, 'enterprises_in_park > incubated_cum'
    from base_years where enterprises_in_park > incubated_cum
    union all
    select base_code, reporting_year, 'returnees_in_park > returnees_cum'
    from base_years where returnees_in_park > returnees_cum
    union all
    select base_code, reporting_year, 'talent_national + talent_provincial > returnees_cum'
    from base_years where talent_national + talent_provincial > returnees_cum

),

summary as (

    select * from {{ ref('candidate_report_summary') }}

),

scope_breaches as (

    select
        'top10' as base_code,
        top10.reporting_year,
        'top10 exceeds all' as breach
    from summary as top10
    inner join summary as everything
        on everything.reporting_year = top10.reporting_year
        and everything.scope = 'all'
    where top10.scope = 'top10'
        and (
            top10.bases > everything.bases
            or top10.incubated_cum > everything.incubated_cum
            or top10.high_tech_cum > everything.high_tech_cum
            or top10.little_giants_cum > everything.little_giants_cum
            or top10.listed_cum > everything.listed_cum
            or top10.returnees_cum > everything.returnees_cum
            or top10.talent_national > everything.talent_national
            or top10.talent_provincial > everything.talent_provincial
            or top10.service_events > everything.service_events
        )

)

select * from base_breaches
union all
select * from scope_breaches
