-- The committee's expert scores of the score file in force for each year (the one received
-- last, ties to the later load, as for submissions): one row per expert and scored base.
with source as (

    select * from {{ source('raw', 'expert_scores') }}

),

typed as (

    select
        submission_id,
        cast(reporting_year as integer) as reporting_year,
        cast(source_row as integer) as source_row,
        cast(received_at as timestamp) as received_at,
        cast(loaded_at as timestamp) as loaded_at,
        {{ normalise_base_code('base_code') }} as base_code,
        {{ clean_text('expert_id') }} as expert_id,
        cast({{ parse_number('score') }} as decimal(9, 3)) as expert_score
    from source

),

file_in_force as (

    select
        *,
        first_value(submission_id) over (
            partition by reporting_year
            order by received_at desc, loaded_at desc, submission_id desc
        ) as submission_id_in_force
    from typed

),

final as (

    select
        submission_id,
        reporting_year,
        source_row,
        base_code,
        expert_id,
        expert_score
    from file_in_force
    where submission_id = submission_id_in_force

)

select * from final
