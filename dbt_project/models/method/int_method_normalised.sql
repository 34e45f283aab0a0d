{{ config(materialized='table', schema='intermediate') }}
-- Step 5, normalisation: each treated value's position u in [0, 1] among the year's ranked
-- bases, by the indicator's normalisation, mapped onto its score range (score_low + (score_high
-- - score_low) u; 0-100 unless the catalogue says otherwise, e.g. 60-100):
--   minmax      (x - min) / (max - min)
--   zscore      ((x - mean) / sd + 3) / 6, capped to [0, 1] (sd: sample standard deviation)
--   percentile  (bases below + half the other bases tied) / (bases - 1)
--   goalposts   (x - goal_low) / (goal_high - goal_low), capped to [0, 1]
-- Direction -1 turns u into 1 - u (goalposts carry their direction). When all values are
-- equal, every base gets u = 1.
with treated as (

    select * from {{ ref('int_method_treated') }}

),

catalogue as (

    select * from {{ ref('int_method_catalogue') }}

),

distribution as (

    select
        treated.*,
        catalogue.normalisation,
        catalogue.direction,
        catalogue.score_low,
        catalogue.score_high,
        catalogue.goal_low,
        catalogue.goal_high,
        count(*) over (partition by treated.reporting_year, treated.indicator_code) as bases,
        min(treated.treated_value) over (partition by treated.reporting_year, treated.indicator_code) as min_value,
        max(treated.treated_value) over (partition by treated.reporting_year, treated.indicator_code) as max_value,
        avg(treated.treated_value) over (partition by treated.reporting_year, treated.indicator_code) as mean_value,
        stddev_samp(treated.treated_value) over (
            partition by treated.reporting_year, treated.indicator_code
        ) as sd_value,
        rank() over (
            partition by treated.reporting_year, treated.indicator_code order by treated.treated_value
        ) - 1 as bases_below,
        count(*) over (
            partition by treated.reporting_year, treated.indicator_code, treated.treated_value
        ) - 1 as bases_tied
    from treated
    inner join catalogue
        on catalogue.reporting_year = treated.reporting_year
        and catalogue.indicator_code = treated.indicator_code

),

positioned as (

    select
        *,
        case
            when normalisation = 'goalposts'
                then greatest(0.0, least(1.0, (treated_value - goal_low) / (goal_high - goal_low)))
            when max_value = min_value then 1.0
            when normalisation = 'minmax' then (treated_value - min_value) / (max_value - min_value)
            when normalisation = 'zscore'
                then greatest(0.0, least(1.0, ((treated_value - mean_value) / sd_value + 3) / 6))
            when normalisation = 'percentile' then (bases_below + 0.5 * bases_tied) / (bases - 1)
        end as position_up

    from distribution

),

final as (

    select
        base_code,
        reporting_year,
        indicator_code,
        dimension_code,
        treated_value,
        normalisation,
        direction,
        bases,
        min_value,
        max_value,
        mean_value,
        sd_value,
        bases_below,
        bases_tied,
        case
            when normalisation <> 'goalposts' and max_value <> min_value and direction = -1
                then 1 - position_up
            else position_up
        end as unit_score,
        score_low + (score_high - score_low) * case
            when normalisation <> 'goalposts' and max_value <> min_value and direction = -1
                then 1 - position_up
            else position_up
        end as normalised_value
    from positioned

)

select * from final
