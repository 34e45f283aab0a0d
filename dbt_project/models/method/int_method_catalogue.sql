{{ config(materialized='table', schema='intermediate') }}
-- The indicator catalogue as each reporting year uses it: the rows of
-- seeds/method_indicators.csv valid that year, with each weight's share of its level.
with reporting_years as (

    select distinct reporting_year from {{ ref('fct_base_year') }}

),

indicators as (

    select * from {{ ref('method_indicators') }}

),

valid as (

    select
        reporting_years.reporting_year,
        indicators.indicator_code,
        indicators.indicator_name_zh,
        indicators.indicator_name_en,
        indicators.unit,
        indicators.dimension_code,
        indicators.dimension_name_zh,
        indicators.dimension_name_en,
        cast(indicators.dimension_weight as double) as dimension_weight,
        cast(indicators.indicator_weight as double) as indicator_weight,
        indicators.direction,
        coalesce(indicators.normalisation, 'minmax') as normalisation,
        cast(coalesce(indicators.score_low, 0) as double) as score_low,
        cast(coalesce(indicators.score_high, 100) as double) as score_high,
        cast(indicators.goal_low as double) as goal_low,
        cast(indicators.goal_high as double) as goal_high,
        indicators.numerator,
        indicators.denominator,
        indicators.first_year as valid_from_year,
        indicators.last_year as valid_to_year
    from reporting_years
    inner join indicators
        on reporting_years.reporting_year >= indicators.first_year
        and (indicators.last_year is null or reporting_years.reporting_year <= indicators.last_year)

),

dimensions as (

    select distinct reporting_year, dimension_code, dimension_weight from valid

),

dimension_totals as (

    select reporting_year, sum(dimension_weight) as total_dimension_weight
    from dimensions
    group by reporting_year

),

final as (

    select
        valid.*,
        valid.indicator_weight / sum(valid.indicator_weight) over (
            partition by valid.reporting_year, valid.dimension_code
        ) as indicator_weight_share,
        valid.dimension_weight / dimension_totals.total_dimension_weight as dimension_weight_share
    from valid
    inner join dimension_totals
        on dimension_totals.reporting_year = valid.reporting_year

)

select * from final
