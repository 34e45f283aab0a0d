{{ config(materialized='table', schema='intermediate') }}
-- Step 3, imputation: a ranked base's missing value becomes its own raw value of the same
-- indicator the year before, else the median of the year's ranked bases that have it; every
-- imputed value is flagged with its rule. Unranked bases keep their raw values.
with indicator_values as (

    select * from {{ ref('int_method_indicator_values') }}

),

coverage as (

    select * from {{ ref('int_method_coverage') }}

),

screened as (

    select
        indicator_values.*,
        coverage.ranked
    from indicator_values
    inner join coverage
        on coverage.base_code = indicator_values.base_code
        and coverage.reporting_year = indicator_values.reporting_year

),

previous_year as (

    select
        base_code,
        reporting_year + 1 as reporting_year,
        indicator_code,
        raw_value as previous_raw_value
    from indicator_values
    where raw_value is not null

),

medians as (

    select
        reporting_year,
        indicator_code,
        {{ method_median('raw_value') }} as median_value
    from screened
    where ranked and raw_value is not null
    group by reporting_year, indicator_code

),

final as (

    select
        screened.base_code,
        screened.reporting_year,
        screened.indicator_code,
        screened.dimension_code,
        screened.submission_id,
        screened.ranked,
        screened.raw_value,
        case
            when not screened.ranked or screened.raw_value is not null then screened.raw_value
            when previous_year.previous_raw_value is not null then previous_year.previous_raw_value
            else medians.median_value
        end as imputed_value,
        screened.ranked and screened.raw_value is null
            and coalesce(previous_year.previous_raw_value, medians.median_value) is not null as imputed,
        case
            when not screened.ranked or screened.raw_value is not null then null
            when previous_year.previous_raw_value is not null then 'previous_year'
            when medians.median_value is not null then 'median'
        end as imputation_rule
    from screened
    left join previous_year
        on previous_year.base_code = screened.base_code
        and previous_year.reporting_year = screened.reporting_year
        and previous_year.indicator_code = screened.indicator_code
    left join medians
        on medians.reporting_year = screened.reporting_year
        and medians.indicator_code = screened.indicator_code

)

select * from final
