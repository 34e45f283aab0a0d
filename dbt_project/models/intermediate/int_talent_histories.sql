-- One row per returnee (person_key) across every base and year they were reported in. Personal
-- attributes that do not change come from the latest report; the programme level is the
-- latest stated.
with talent_years as (

    select * from {{ ref('int_talent_years_flagged') }}

),

latest as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by person_key
                order by reporting_year desc, entered_date desc, base_code
            ) as recency_rank
        from talent_years
    ) as ranked
    where recency_rank = 1

),

spans as (

    select
        person_key,
        min(reporting_year) as first_reporting_year,
        max(reporting_year) as last_reporting_year,
        count(distinct reporting_year) as years_reported,
        count(distinct base_code) as bases_count,
        min(entered_date) as first_entered_date
    from talent_years
    group by person_key

),

final as (

    select
        spans.person_key,
        latest.gender_code,
        latest.birth_year,
        latest.study_country,
        latest.degree_code,
        latest.return_year,
        latest.talent_programme_code,
        latest.programme_year,
        latest.base_code as latest_base_code,
        spans.first_entered_date,
        spans.first_reporting_year,
        spans.last_reporting_year,
        cast(spans.years_reported as integer) as years_reported,
        cast(spans.bases_count as integer) as bases_count
    from spans
    inner join latest
        on latest.person_key = spans.person_key

)

select * from final
