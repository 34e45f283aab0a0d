{{ config(materialized='table', schema='intermediate') }}
-- Step 7, indicator score: the weighted arithmetic mean of a ranked base's dimension scores; a
-- dimension without any value drops out and the other dimensions' weights are rescaled.
with dimension_scores as (

    select * from {{ ref('int_method_dimension_scores') }}

),

dimension_weights as (

    select distinct reporting_year, dimension_code, dimension_weight
    from {{ ref('int_method_catalogue') }}

),

final as (

    select
        dimension_scores.base_code,
        dimension_scores.reporting_year,
        count(*) as dimensions_used,
        sum(dimension_weights.dimension_weight) as dimension_weight_used,
        sum(dimension_weights.dimension_weight * dimension_scores.dimension_score)
            / sum(dimension_weights.dimension_weight) as indicator_score
    from dimension_scores
    inner join dimension_weights
        on dimension_weights.reporting_year = dimension_scores.reporting_year
        and dimension_weights.dimension_code = dimension_scores.dimension_code
    group by dimension_scores.base_code, dimension_scores.reporting_year

)

select * from final
