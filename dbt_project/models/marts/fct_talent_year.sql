-- One row per returnee, base and reporting year (pseudonymous), with the year-end flags the
-- talent figures count.
with talent_years as (

    select * from {{ ref('int_talent_years_flagged') }}

),

final as (

    select
        {{ surrogate_key(['base_code', 'reporting_year', 'person_key']) }} as talent_year_id,
        reporting_year,
        base_code,
        person_key,
        submission_id,
        employer_credit_code,
        talent_programme_code,
        programme_year,
        degree_code,
        entered_date,
        left_date,
        is_absorbed,
        is_in_park
    from talent_years

)

select * from final
