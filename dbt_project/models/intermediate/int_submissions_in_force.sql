-- The submission version in force for each base and reporting year, with how many versions the
-- base sent that year.
with submissions as (

    select * from {{ ref('stg_submissions') }}

),

final as (

    select
        submission_id,
        base_code,
        reporting_year,
        submission_form,
        received_at,
        loaded_at,
        version_number,
        versions_received
    from submissions
    where is_in_force

)

select * from final
