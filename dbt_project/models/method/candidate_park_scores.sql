{{ config(materialized='table', schema='marts') }}
-- The score decomposition before publication (the quality gate checks it here; park_scores
-- publishes it): one row per submitting base, year and indicator, from the submitted figures
-- through every step of the method to the indicator's contribution to the score.
with indicator_values as (

    select * from {{ ref('int_method_indicator_values') }}
    where submitted

),

catalogue as (

    select * from {{ ref('int_method_catalogue') }}

),

imputed as (

    select * from {{ ref('int_method_imputed') }}

),

treated as (

    select * from {{ ref('int_method_treated') }}

),

normalised as (

    select * from {{ ref('int_method_normalised') }}

),

dimension_scores as (

    select * from {{ ref('int_method_dimension_scores') }}

),

indicator_scores as (

    select * from {{ ref('int_method_indicator_scores') }}

),

scores as (

    select * from {{ ref('int_method_scores') }}

),

base_names as (

    select base_years.base_code, base_years.reporting_year, dim_base.base_name_zh
    from {{ ref('fct_base_year') }} as base_years
    left join {{ ref('dim_base') }} as dim_base
        on dim_base.base_version_id = base_years.base_version_id

),

weighted as (

    select
        indicator_values.reporting_year,
        indicator_values.base_code,
        indicator_values.dimension_code,
        indicator_values.indicator_code,
        indicator_values.submission_id,
        indicator_values.numerator_value,
        indicator_values.denominator_value,
        indicator_values.raw_value,
        imputed.imputed,
        imputed.imputation_rule,
        imputed.imputed_value,
        treated.treatment,
        treated.treated_value,
        normalised.normalisation,
        normalised.normalised_value,
        catalogue.indicator_weight,
        catalogue.dimension_weight,
        case
            when normalised.normalised_value is not null
                then catalogue.indicator_weight / dimension_scores.indicator_weight_used
        end as effective_indicator_weight,
        case
            when normalised.normalised_value is not null
                then catalogue.dimension_weight / indicator_scores.dimension_weight_used
        end as effective_dimension_weight,
        dimension_scores.dimension_score,
        scores.indicator_score,
        scores.expert_score,
        scores.score,
        scores.ranked
    from indicator_values
    inner join catalogue
        on catalogue.reporting_year = indicator_values.reporting_year
        and catalogue.indicator_code = indicator_values.indicator_code
    inner join imputed
        on imputed.base_code = indicator_values.base_code
        and imputed.reporting_year = indicator_values.reporting_year
        and imputed.indicator_code = indicator_values.indicator_code
    inner join scores
        on scores.base_code = indicator_values.base_code
        and scores.reporting_year = indicator_values.reporting_year
    left join treated
        on treated.base_code = indicator_values.base_code
        and treated.reporting_year = indicator_values.reporting_year
        and treated.indicator_code = indicator_values.indicator_code
    left join normalised
        on normalised.base_code = indicator_values.base_code
        and normalised.reporting_year = indicator_values.reporting_year
        and normalised.indicator_code = indicator_values.indicator_code
    left join dimension_scores
        on dimension_scores.base_code = indicator_values.base_code
        and dimension_scores.reporting_year = indicator_values.reporting_year
        and dimension_scores.dimension_code = indicator_values.dimension_code
    left join indicator_scores
        on indicator_scores.base_code = indicator_values.base_code
        and indicator_scores.reporting_year = indicator_values.reporting_year

),

final as (

    select
        weighted.reporting_year,
        weighted.base_code,
        base_names.base_name_zh,
        weighted.dimension_code,
        catalogue.dimension_name_zh,
        catalogue.dimension_name_en,
        weighted.indicator_code,
        catalogue.indicator_name_zh,
        catalogue.indicator_name_en,
        catalogue.unit,
        weighted.submission_id,
        weighted.numerator_value,
        weighted.denominator_value,
        weighted.raw_value,
        weighted.imputed,
        weighted.imputation_rule,
        weighted.imputed_value,
        weighted.treatment,
        weighted.treated_value,
        weighted.normalisation,
        weighted.normalised_value,
        weighted.indicator_weight,
        weighted.dimension_weight,
        weighted.effective_indicator_weight,
        weighted.effective_dimension_weight,
        weighted.effective_indicator_weight * weighted.effective_dimension_weight as weight,
        weighted.effective_indicator_weight * weighted.effective_dimension_weight * weighted.normalised_value
            as contribution,
        weighted.dimension_score,
        weighted.indicator_score,
        weighted.expert_score,
        cast(weighted.score as decimal(9, 3)) as score,
        weighted.ranked
    from weighted
    inner join catalogue
        on catalogue.reporting_year = weighted.reporting_year
        and catalogue.indicator_code = weighted.indicator_code
    left join base_names
        on base_names.base_code = weighted.base_code
        and base_names.reporting_year = weighted.reporting_year

)

select * from final
