{{ config(materialized='table', schema='marts') }}
-- The ranking before publication (the quality gate checks it here; park_ranking publishes it):
-- one row per designated base and reporting year, in the public contract's columns. A base that did not
-- submit, or whose coverage is too low, is not ranked: rank NULL, ranked false.
with scores as (

    select * from {{ ref('int_method_scores') }}

),

uncertainty as (

    select * from {{ ref('int_method_rank_uncertainty') }}

),

base_years as (

    select * from {{ ref('fct_base_year') }}

),

bases as (

    select * from {{ ref('dim_base') }}

),

provinces as (

    select * from {{ ref('dim_province') }}

),

final as (

    select
        cast(scores.reporting_year as integer) as reporting_year,
        cast(scores.rank as integer) as rank,
        scores.base_code,
        coalesce(bases.base_name_zh, base_years.base_name_zh) as base_name_zh,
        bases.base_name_en,
        provinces.province_name_zh as province,
        cast(scores.score as decimal(9, 3)) as score,
        cast(case when scores.ranked then scores.indicator_score end as decimal(9, 3)) as indicator_score,
        cast(scores.expert_score as decimal(9, 3)) as expert_score,
        cast(scores.rank_change as integer) as rank_change,
        cast(uncertainty.rank_median as double) as rank_median,
        cast(uncertainty.rank_p05 as integer) as rank_p05,
        cast(uncertainty.rank_p95 as integer) as rank_p95,
        scores.ranked
    from scores
    inner join base_years
        on base_years.base_code = scores.base_code
        and base_years.reporting_year = scores.reporting_year
    left join bases
        on bases.base_version_id = base_years.base_version_id
    left join provinces
        on provinces.province_code = coalesce(bases.province_code, base_years.province_code)
    left join uncertainty
        on uncertainty.base_code = scores.base_code
        and uncertainty.reporting_year = scores.reporting_year

)

select * from final
