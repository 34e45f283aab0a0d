-- The funding events of each submission in force: one row per event, typed, amounts in yuan.
with source as (

    select * from {{ source('raw', 'funding') }}

),

in_force as (

    select submission_id from {{ ref('stg_submissions') }} where is_in_force

),

typed as (

    select
        {{ surrogate_key(['source.submission_id', 'source.source_row']) }} as funding_event_id,
        source.submission_id,
        {{ normalise_base_code('source.base_code') }} as base_code,
        cast(source.reporting_year as integer) as reporting_year,
        cast(source.source_row as integer) as source_row,
        {{ normalise_credit_code('source.credit_code') }} as credit_code,
        {{ parse_date('source.funding_date') }} as funding_date,
        funding_kind.code as funding_kind_code,
        funding_round.code as funding_round_code,
        {{ to_yuan('source.amount', 'source.amount_unit') }} as amount_yuan,
        {{ clean_text('source.investor') }} as investor_name
    from source
    inner join in_force
        on in_force.submission_id = source.submission_id
    {{ join_enum('funding_kind', 'funding_kind', 'source.funding_kind') }}
    {{ join_enum('funding_round', 'funding_round', 'source.funding_round') }}

)

select * from typed
