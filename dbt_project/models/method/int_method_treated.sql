{{ config(materialized='table', schema='intermediate') }}
-- Step 4b, outlier treatment (COINr's rule, docs/method.md): an indicator whose values across
-- the ranked bases have |skewness| >= 2 and kurtosis >= 3.5 is winsorised on the side of its
-- skew by the fewest points (up to the year's maximum, 5) that bring it under the thresholds;
-- when no number does, the untreated values are log-transformed instead (COINr's log_CT:
-- ln(x - min + 0.01 (max - min))). One row per ranked base, year and indicator with a value.
with imputed as (

    select * from {{ ref('int_method_imputed') }}
    where ranked and imputed_value is not null

),

checks as (

    select * from {{ ref('int_method_outlier_checks') }}

),

untreated as (

    select * from checks where winsorised_points = 0

),

passing as (

    select
        reporting_year,
        indicator_code,
        min(winsorised_points) as winsorised_points
    from checks
    where not has_outliers
    group by reporting_year, indicator_code

),

decisions as (

    select
        untreated.reporting_year,
        untreated.indicator_code,
        case
            when not untreated.has_outliers then 'none'
            when passing.winsorised_points is not null then 'winsorised'
            else 'log'
        end as treatment,
        case when untreated.has_outliers then coalesce(passing.winsorised_points, 0) else 0 end
            as winsorised_points,
        case
            when untreated.has_outliers and passing.winsorised_points is not null then untreated.winsorised_side
        end as winsorised_side,
        untreated.skewness as skewness_before,
        untreated.kurtosis as kurtosis_before
    from untreated
    left join passing
        on passing.reporting_year = untreated.reporting_year
        and passing.indicator_code = untreated.indicator_code

),

ranges as (

    select
        reporting_year,
        indicator_code,
        min(imputed_value) as min_value,
        max(imputed_value) as max_value
    from imputed
    group by reporting_year, indicator_code

),

treated as (

    select
        imputed.base_code,
        imputed.reporting_year,
        imputed.indicator_code,
        imputed.dimension_code,
        imputed.imputed_value,
        decisions.treatment,
        decisions.winsorised_points,
        decisions.winsorised_side,
        chosen.limit_value,
        case
            when decisions.treatment = 'winsorised' and decisions.winsorised_side = 'high'
                then least(imputed.imputed_value, chosen.limit_value)
            when decisions.treatment = 'winsorised'
                then greatest(imputed.imputed_value, chosen.limit_value)
            when decisions.treatment = 'log'
                then ln(imputed.imputed_value - ranges.min_value + 0.01 * (ranges.max_value - ranges.min_value))
            else imputed.imputed_value
        end as treated_value,
        decisions.skewness_before,
        decisions.kurtosis_before,
        chosen.skewness as chosen_skewness,
        chosen.kurtosis as chosen_kurtosis
    from imputed
    inner join decisions
        on decisions.reporting_year = imputed.reporting_year
        and decisions.indicator_code = imputed.indicator_code
    inner join ranges
        on ranges.reporting_year = imputed.reporting_year
        and ranges.indicator_code = imputed.indicator_code
    left join checks as chosen
        on chosen.reporting_year = imputed.reporting_year
        and chosen.indicator_code = imputed.indicator_code
        and chosen.winsorised_points = decisions.winsorised_points
        and decisions.treatment <> 'log'

),

log_means as (

    select reporting_year, indicator_code, count(*) as bases, avg(treated_value) as mean_value
    from treated
    where treatment = 'log'
    group by reporting_year, indicator_code

),

log_statistics as (

    -- The statistics after a log transform, which the checks above do not cover.
    select
        treated.reporting_year,
        treated.indicator_code,
        {{ method_skewness('max(log_means.bases)', 'sum(power(treated.treated_value - log_means.mean_value, 2))',
                           'sum(power(treated.treated_value - log_means.mean_value, 3))') }} as skewness,
        {{ method_kurtosis('max(log_means.bases)', 'sum(power(treated.treated_value - log_means.mean_value, 2))',
                           'sum(power(treated.treated_value - log_means.mean_value, 4))') }} as kurtosis
    from treated
    inner join log_means
        on log_means.reporting_year = treated.reporting_year
        and log_means.indicator_code = treated.indicator_code
    group by treated.reporting_year, treated.indicator_code

),

final as (

    select
        treated.base_code,
        treated.reporting_year,
        treated.indicator_code,
        treated.dimension_code,
        treated.imputed_value,
        treated.treated_value,
        treated.treatment,
        treated.winsorised_points,
        treated.winsorised_side,
        treated.treated_value <> treated.imputed_value and treated.treatment = 'winsorised' as point_winsorised,
        treated.skewness_before,
        treated.kurtosis_before,
        coalesce(log_statistics.skewness, treated.chosen_skewness) as skewness_after,
        coalesce(log_statistics.kurtosis, treated.chosen_kurtosis) as kurtosis_after
    from treated
    left join log_statistics
        on log_statistics.reporting_year = treated.reporting_year
        and log_statistics.indicator_code = treated.indicator_code

)

select * from final
