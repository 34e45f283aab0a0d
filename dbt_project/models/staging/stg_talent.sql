-- The returnee roster of each submission in force, pseudonymous: the person is person_key (a
-- keyed hash of the ID number computed at ingestion). Name, ID number and phone are never
-- selected here, so they never leave the raw schema.
with source as (

    select
        submission_id,
        base_code,
        reporting_year,
        source_row,
        person_key,
        id_type,
        gender,
        birth_year,
        study_country,
        degree,
        return_year,
        entered_date,
        left_date,
        employer_credit_code,
        talent_programme,
        programme_year
    from {{ source('raw', 'talent') }}

),

in_force as (

    select submission_id from {{ ref('stg_submissions') }} where is_in_force

),

typed as (

    select
        source.submission_id,
        {{ normalise_base_code('source.base_code') }} as base_code,
        cast(source.reporting_year as integer) as reporting_year,
        cast(source.source_row as integer) as source_row,
        source.person_key,
        id_type.code as id_type_code,
        gender.code as gender_code,
        {{ parse_year('source.birth_year') }} as birth_year,
        {{ clean_text('source.study_country') }} as study_country,
        degree.code as degree_code,
        {{ parse_year('source.return_year') }} as return_year,
        {{ parse_date('source.entered_date') }} as entered_date,
        {{ parse_date('source.left_date') }} as left_date,
        {{ normalise_credit_code('source.employer_credit_code') }} as employer_credit_code,
        talent_programme.code as talent_programme_code,
        {{ parse_year('source.programme_year') }} as programme_year
    from source
    inner join in_force
        on in_force.submission_id = source.submission_id
    {{ join_enum('id_type', 'id_type', 'source.id_type') }}
    {{ join_enum('gender', 'gender', 'source.gender') }}
    {{ join_enum('degree', 'degree', 'source.degree') }}
    {{ join_enum('talent_programme', 'talent_programme', 'source.talent_programme') }}

)

select * from typed
