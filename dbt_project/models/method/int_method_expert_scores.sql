{{ config(materialized='table', schema='intermediate') }}
-- Step 8b, expert score: the trimmed mean of a base's panel (the highest and the lowest
-- expert dropped), one row per base and year with at least one expert score.
with panel as (

    select * from {{ ref('int_method_expert_panel') }}

),

final as (

    select
        base_code,
        reporting_year,
        count(*) as experts,
        sum(case when dropped then 0 else 1 end) as experts_kept,
        min(expert_score) as lowest_expert_score,
        max(expert_score) as highest_expert_score,
        avg(case when not dropped then expert_score end) as expert_score
    from panel
    group by base_code, reporting_year

)

select * from final
