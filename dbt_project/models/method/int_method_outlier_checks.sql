{{ config(materialized='table', schema='intermediate') }}
-- Step 4a, outlier check (COINr's rule): for each year and indicator, the skewness and kurtosis
-- across the ranked bases after winsorising k = 0 … max points. Winsorising k points on the
-- side of the skew (the high side when the untreated skewness is >= 0, else the low side) sets
-- the k most extreme values to the next one, the (k+1)-th. int_method_treated takes the
-- smallest k that passes, or the log transform when none does.
with parameters as (

    select * from {{ ref('int_method_parameters') }}

),

indicator_values as (

    select
        reporting_year,
        indicator_code,
        base_code,
        imputed_value as value
    from {{ ref('int_method_imputed') }}
    where ranked and imputed_value is not null

),

positioned as (

    select
        *,
        row_number() over (
            partition by reporting_year, indicator_code order by value desc, base_code
        ) as position_from_top,
        row_number() over (
            partition by reporting_year, indicator_code order by value asc, base_code
        ) as position_from_bottom
    from indicator_values

),

points as (

    {{ method_integer_spine(method_max_winsorised_points()) }}

),

sides as (

    select 'high' as winsorised_side
    union all
    select 'low' as winsorised_side

),

limits as (

    -- The value the winsorised points are set to: the (k+1)-th from the top (or bottom).
    select
        positioned.reporting_year,
        positioned.indicator_code,
        sides.winsorised_side,
        points.k as winsorised_points,
        positioned.value as limit_value
    from positioned
    cross join sides
    inner join points
        on (sides.winsorised_side = 'high' and positioned.position_from_top = points.k + 1)
        or (sides.winsorised_side = 'low' and positioned.position_from_bottom = points.k + 1)
    inner join parameters
        on parameters.reporting_year = positioned.reporting_year
        and points.k <= parameters.max_winsorised_points

),

winsorised as (

    select
        limits.reporting_year,
        limits.indicator_code,
        limits.winsorised_side,
        limits.winsorised_points,
        limits.limit_value,
        case
            when limits.winsorised_side = 'high' then least(indicator_values.value, limits.limit_value)
            else greatest(indicator_values.value, limits.limit_value)
        end as value
    from limits
    inner join indicator_values
        on indicator_values.reporting_year = limits.reporting_year
        and indicator_values.indicator_code = limits.indicator_code

),

means as (

    select
        reporting_year,
        indicator_code,
        winsorised_side,
        winsorised_points,
        count(*) as bases,
        avg(value) as mean_value
    from winsorised
    group by reporting_year, indicator_code, winsorised_side, winsorised_points

),

moments as (

    select
        winsorised.reporting_year,
        winsorised.indicator_code,
        winsorised.winsorised_side,
        winsorised.winsorised_points,
        max(winsorised.limit_value) as limit_value,
        max(means.bases) as bases,
        sum(power(winsorised.value - means.mean_value, 2)) as m2,
        sum(power(winsorised.value - means.mean_value, 3)) as m3,
        sum(power(winsorised.value - means.mean_value, 4)) as m4
    from winsorised
    inner join means
        on means.reporting_year = winsorised.reporting_year
        and means.indicator_code = winsorised.indicator_code
        and means.winsorised_side = winsorised.winsorised_side
        and means.winsorised_points = winsorised.winsorised_points
    group by winsorised.reporting_year, winsorised.indicator_code, winsorised.winsorised_side,
        winsorised.winsorised_points

),

statistics as (

    select
        reporting_year,
        indicator_code,
        winsorised_side,
        winsorised_points,
        limit_value,
        bases,
        {{ method_skewness('bases', 'm2', 'm3') }} as skewness,
        {{ method_kurtosis('bases', 'm2', 'm4') }} as kurtosis
    from moments

),

flagged as (

    select
        statistics.*,
        {{ method_has_outliers('statistics.skewness', 'statistics.kurtosis',
                               'parameters.outlier_skew_threshold', 'parameters.outlier_kurtosis_threshold') }}
            as has_outliers
    from statistics
    inner join parameters
        on parameters.reporting_year = statistics.reporting_year

),

skew_side as (

    select
        reporting_year,
        indicator_code,
        case when skewness < 0 then 'low' else 'high' end as winsorised_side
    from statistics
    where winsorised_points = 0 and winsorised_side = 'high'

),

final as (

    select
        flagged.reporting_year,
        flagged.indicator_code,
        flagged.winsorised_side,
        flagged.winsorised_points,
        flagged.limit_value,
        flagged.bases,
        flagged.skewness,
        flagged.kurtosis,
        flagged.has_outliers
    from flagged
    inner join skew_side
        on skew_side.reporting_year = flagged.reporting_year
        and skew_side.indicator_code = flagged.indicator_code
        and skew_side.winsorised_side = flagged.winsorised_side

)

select * from final
