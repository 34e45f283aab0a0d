{{ config(materialized='table', schema='intermediate') }}
-- The method's parameters in force for each reporting year: the row of
-- seeds/method_parameters.csv whose period covers the year (tests: exactly one).
with reporting_years as (

    select distinct reporting_year from {{ ref('fct_base_year') }}

),

parameters as (

    select * from {{ ref('method_parameters') }}

),

final as (

    select
        reporting_years.reporting_year,
        parameters.first_year as valid_from_year,
        parameters.last_year as valid_to_year,
        cast(parameters.expert_share as double) as expert_share,
        parameters.expert_trim,
        cast(parameters.outlier_skew_threshold as double) as outlier_skew_threshold,
        cast(parameters.outlier_kurtosis_threshold as double) as outlier_kurtosis_threshold,
        parameters.max_winsorised_points,
        cast(parameters.min_coverage as double) as min_coverage,
        parameters.rounding_digits,
        parameters.mc_draws,
        parameters.mc_seed,
        cast(parameters.mc_weight_noise as double) as mc_weight_noise,
        cast(parameters.mc_expert_share_low as double) as mc_expert_share_low,
        cast(parameters.mc_expert_share_high as double) as mc_expert_share_high
    from reporting_years
    left join parameters
        on reporting_years.reporting_year >= parameters.first_year
        and (parameters.last_year is null or reporting_years.reporting_year <= parameters.last_year)

)

select * from final
