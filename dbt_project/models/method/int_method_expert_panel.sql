{{ config(materialized='table', schema='intermediate') }}
-- Step 8a, the expert panel: every expert's score of a designated base (the score file in
-- force), and whether the trimmed mean drops it: the year's expert_trim highest and as many
-- lowest scores are dropped when the panel has more than twice that many experts.
with expert_scores as (

    select * from {{ ref('stg_expert_scores') }}

),

base_years as (

    select base_code, reporting_year from {{ ref('fct_base_year') }}

),

parameters as (

    select * from {{ ref('int_method_parameters') }}

),

positioned as (

    select
        expert_scores.base_code,
        expert_scores.reporting_year,
        expert_scores.expert_id,
        cast(expert_scores.expert_score as double) as expert_score,
        expert_scores.submission_id,
        expert_scores.source_row,
        count(*) over (
            partition by expert_scores.base_code, expert_scores.reporting_year
        ) as panel_size,
        row_number() over (
            partition by expert_scores.base_code, expert_scores.reporting_year
            order by expert_scores.expert_score desc, expert_scores.expert_id
        ) as position_from_top,
        row_number() over (
            partition by expert_scores.base_code, expert_scores.reporting_year
            order by expert_scores.expert_score asc, expert_scores.expert_id desc
        ) as position_from_bottom
    from expert_scores
    inner join base_years
        on base_years.base_code = expert_scores.base_code
        and base_years.reporting_year = expert_scores.reporting_year
    where expert_scores.expert_score is not null

),

final as (

    select
        positioned.*,
        positioned.panel_size > 2 * parameters.expert_trim
            and (positioned.position_from_top <= parameters.expert_trim
                 or positioned.position_from_bottom <= parameters.expert_trim) as dropped
    from positioned
    inner join parameters
        on parameters.reporting_year = positioned.reporting_year

)

select * from final
