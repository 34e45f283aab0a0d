-- Every accepted submission version, typed, with the one in force for its base and year flagged.
-- The version in force is the one received last; staging drops the others from every part.
with source as (

    select * from {{ source('raw', 'submissions') }}

),

typed as (

    select
        submission_id,
        {{ normalise_base_code('base_code') }} as base_code,
        cast(reporting_year as integer) as reporting_year,
        lower(trim(form)) as submission_form,
        source_path,
        source_sha256,
        cast(received_at as timestamp) as received_at,
        cast(loaded_at as timestamp) as loaded_at
    from source
    -- The committee's expert score files are versioned by ingestion too, but are no base's submission.
    where lower(trim(base_code)) <> 'expert_scores'

),

ranked as (

    select
        *,
        row_number() over (
            partition by base_code, reporting_year
            order by received_at, loaded_at, submission_id
        ) as version_number,
        count(*) over (partition by base_code, reporting_year) as versions_received,
        -- Ties on received_at fall back to the later load, then the id, so exactly one version wins.
        row_number() over (
            partition by base_code, reporting_year
            order by received_at desc, loaded_at desc, submission_id desc
        ) as recency_rank
    from typed

),

final as (

    select
        submission_id,
        base_code,
        reporting_year,
        submission_form,
        source_path,
        source_sha256,
        received_at,
        loaded_at,
        cast(version_number as integer) as version_number,
        cast(versions_received as integer) as versions_received,
        recency_rank = 1 as is_in_force
    from ranked

)

select * from final
