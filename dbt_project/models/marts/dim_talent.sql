-- Every returnee any base has reported, pseudonymous: keyed by person_key (a keyed hash of the
-- ID number); no name, ID number or phone.
with histories as (

    select * from {{ ref('int_talent_histories') }}

),

final as (

    select
        person_key,
        gender_code,
        birth_year,
        study_country,
        degree_code,
        return_year,
        talent_programme_code,
        programme_year,
        latest_base_code,
        first_entered_date,
        first_reporting_year,
        last_reporting_year,
        years_reported,
        bases_count
    from histories

)

select * from final
