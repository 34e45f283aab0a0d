-- Every funding event in force, classified for the figures: whether it went to a returnee
-- enterprise on the same roster, falls in the reporting year, and counts as venture capital
-- (angel or VC) or fiscal funding (government grant).
with funding as (

    select * from {{ ref('stg_funding') }}

),

companies as (

    select submission_id, credit_code, is_returnee_enterprise
    from {{ ref('int_company_years_flagged') }}

),

final as (

    select
        funding.funding_event_id,
        funding.base_code,
        funding.reporting_year,
        funding.credit_code,
        funding.submission_id,
        funding.source_row,
        funding.funding_date,
        funding.funding_kind_code,
        funding.funding_round_code,
        funding.investor_name,
        funding.amount_yuan,
        coalesce(companies.is_returnee_enterprise, false) as is_to_returnee_enterprise,
        coalesce(extract(year from funding.funding_date) = funding.reporting_year, false) as is_in_reporting_year,
        coalesce(funding.funding_kind_code in ('angel', 'venture_capital'), false) as is_venture_capital,
        coalesce(funding.funding_kind_code = 'government_grant', false) as is_fiscal
    from funding
    left join companies
        on companies.submission_id = funding.submission_id
        and companies.credit_code = funding.credit_code

)

select * from final
