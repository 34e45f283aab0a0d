{{ config(materialized='table', schema='intermediate') }}
-- Step 6, dimension scores: the weighted arithmetic mean of a ranked base's normalised
-- indicators in each dimension; an indicator without a value drops out and the weights of the
-- others are rescaled to sum to one.
with normalised as (

    select * from {{ ref('int_method_normalised') }}

),

catalogue as (

    select * from {{ ref('int_method_catalogue') }}

),

final as (

    select
        normalised.base_code,
        normalised.reporting_year,
        normalised.dimension_code,
        count(*) as indicators_used,
        sum(catalogue.indicator_weight) as indicator_weight_used,
        sum(catalogue.indicator_weight * normalised.normalised_value) / sum(catalogue.indicator_weight)
            as dimension_score
    from normalised
    inner join catalogue
        on catalogue.reporting_year = normalised.reporting_year
        and catalogue.indicator_code = normalised.indicator_code
    group by normalised.base_code, normalised.reporting_year, normalised.dimension_code

)

select * from final
