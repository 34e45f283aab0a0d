{{ config(materialized='table', schema='intermediate') }}
-- Step 9, published score and rank: (1 - s) indicator score + s expert score with s the
-- year's expert share (the indicator score alone when no expert scored the base), rounded half
-- away from zero to the year's decimals; ranks by the rounded score, ties sharing the lower
-- rank number ("1224"); rank_change = last year's rank - this year's (NULL when either is
-- missing). One row per designated base and year.
with coverage as (

    select * from {{ ref('int_method_coverage') }}

),

indicator_scores as (

    select * from {{ ref('int_method_indicator_scores') }}

),

expert_scores as (

    select * from {{ ref('int_method_expert_scores') }}

),

parameters as (

    select * from {{ ref('int_method_parameters') }}

),

combined as (

    select
        coverage.base_code,
        coverage.reporting_year,
        coverage.submitted,
        coverage.ranked,
        coverage.not_ranked_reason,
        indicator_scores.indicator_score,
        expert_scores.expert_score,
        parameters.expert_share,
        case when expert_scores.expert_score is null then 0.0 else parameters.expert_share end
            as expert_share_applied,
        case
            when not coverage.ranked then null
            when expert_scores.expert_score is null then indicator_scores.indicator_score
            else (1 - parameters.expert_share) * indicator_scores.indicator_score
                + parameters.expert_share * expert_scores.expert_score
        end as score_unrounded,
        parameters.rounding_digits
    from coverage
    inner join parameters
        on parameters.reporting_year = coverage.reporting_year
    left join indicator_scores
        on indicator_scores.base_code = coverage.base_code
        and indicator_scores.reporting_year = coverage.reporting_year
    left join expert_scores
        on expert_scores.base_code = coverage.base_code
        and expert_scores.reporting_year = coverage.reporting_year

),

rounded as (

    select
        *,
        {{ method_round('score_unrounded', 'rounding_digits') }} as score
    from combined

),

ranks as (

    select
        base_code,
        reporting_year,
        rank() over (partition by reporting_year order by score desc) as rank
    from rounded
    where ranked and score is not null

),

final as (

    select
        rounded.base_code,
        rounded.reporting_year,
        rounded.submitted,
        rounded.ranked,
        rounded.not_ranked_reason,
        rounded.indicator_score,
        rounded.expert_score,
        rounded.expert_share,
        rounded.expert_share_applied,
        rounded.score_unrounded,
        rounded.score,
        cast(ranks.rank as integer) as rank,
        cast(previous_ranks.rank as integer) as previous_rank,
        cast(previous_ranks.rank - ranks.rank as integer) as rank_change
    from rounded
    left join ranks
        on ranks.base_code = rounded.base_code
        and ranks.reporting_year = rounded.reporting_year
    left join ranks as previous_ranks
        on previous_ranks.base_code = rounded.base_code
        and previous_ranks.reporting_year = rounded.reporting_year - 1

)

select * from final
