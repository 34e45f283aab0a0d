-- Every returnee on a base's roster in force for a year, pseudonymous, with the year-end flags
-- the talent figures count (docs/figures.md). One row per base, reporting year and person.
with talent as (

    select * from {{ ref('stg_talent') }}

),

final as (

    select
        base_code,
        reporting_year,
        person_key,
        submission_id,
        source_row,
        employer_credit_code,
        gender_code,
        birth_year,
        study_country,
        degree_code,
        return_year,
        entered_date,
        left_date,
        talent_programme_code,
        programme_year,
        coalesce(entered_date <= {{ year_end('reporting_year') }}, false) as is_absorbed,
        coalesce(
            entered_date <= {{ year_end('reporting_year') }}
            and (left_date is null or left_date > {{ year_end('reporting_year') }}),
            false
        ) as is_in_park
    from talent

)

select * from final
