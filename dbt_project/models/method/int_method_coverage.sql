{{ config(materialized='table', schema='intermediate') }}
-- Step 2, coverage screen: a base is ranked when it has a submission in force and raw values
-- for at least the year's minimum share (2/3) of the indicators; otherwise it is not ranked.
with indicator_values as (

    select * from {{ ref('int_method_indicator_values') }}

),

parameters as (

    select * from {{ ref('int_method_parameters') }}

),

counted as (

    select
        base_code,
        reporting_year,
        -- bool_and is not portable; a base year has one submitted value.
        max(case when submitted then 1 else 0 end) = 1 as submitted,
        count(*) as indicators_expected,
        count(raw_value) as indicators_available
    from indicator_values
    group by base_code, reporting_year

),

final as (

    select
        counted.base_code,
        counted.reporting_year,
        counted.submitted,
        counted.indicators_expected,
        counted.indicators_available,
        cast(counted.indicators_available as double) / counted.indicators_expected as coverage,
        parameters.min_coverage,
        -- The tolerance lets 0.6666666667 stand for exactly two thirds.
        counted.submitted
            and counted.indicators_available >= counted.indicators_expected * parameters.min_coverage - 1e-6
            as ranked,
        case
            when not counted.submitted then 'not_submitted'
            when counted.indicators_available < counted.indicators_expected * parameters.min_coverage - 1e-6
                then 'low_coverage'
        end as not_ranked_reason
    from counted
    inner join parameters
        on parameters.reporting_year = counted.reporting_year

)

select * from final
