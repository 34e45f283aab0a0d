{{ config(materialized='table', schema='intermediate') }}
-- Step 1, raw values: every indicator valid in the year for every designated base, computed
-- from the base's figures (fct_base_year, from its rosters), never from self-reported totals.
-- An indicator is its numerator figure, or numerator / denominator; NULL when a figure is
-- missing, the denominator is zero, or the base did not submit.
with base_years as (

    select * from {{ ref('fct_base_year') }}

),

catalogue as (

    select * from {{ ref('int_method_catalogue') }}

),

figures as (

    select
        base_years.base_code,
        base_years.reporting_year,
        catalogue.indicator_code,
        catalogue.dimension_code,
        base_years.submitted,
        base_years.submission_id,
        catalogue.numerator,
        catalogue.denominator,
        {{ method_figure_value('catalogue.numerator', 'base_years') }} as numerator_value,
        case
            when catalogue.denominator is not null
                then {{ method_figure_value('catalogue.denominator', 'base_years') }}
        end as denominator_value
    from base_years
    inner join catalogue
        on catalogue.reporting_year = base_years.reporting_year

),

final as (

    select
        *,
        case
            when denominator is null then numerator_value
            when denominator_value = 0 then null
            else numerator_value / denominator_value
        end as raw_value
    from figures

)

select * from final
