-- One row per funding event reported in a submission in force, amounts in yuan, classified for
-- the venture-capital and fiscal figures.
with events as (

    select * from {{ ref('int_funding_events_classified') }}

),

final as (

    select
        funding_event_id,
        reporting_year,
        base_code,
        credit_code,
        submission_id,
        source_row,
        funding_date,
        funding_kind_code,
        funding_round_code,
        investor_name,
        amount_yuan,
        is_to_returnee_enterprise,
        is_in_reporting_year,
        is_venture_capital,
        is_fiscal
    from events

)

select * from final
