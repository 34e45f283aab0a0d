-- Every company on a base's roster in force for a year, with the year-end flags each figure
-- counts (docs/figures.md). One row per base, reporting year and credit code.
with companies as (

    select * from {{ ref('stg_companies') }}

),

flagged as (

    select
        *,
        coalesce(is_returnee_founded, false) as is_returnee_enterprise,
        coalesce(entered_date <= {{ year_end('reporting_year') }}, false) as is_incubated,
        coalesce(
            entered_date <= {{ year_end('reporting_year') }}
            and (left_date is null or left_date > {{ year_end('reporting_year') }}),
            false
        ) as is_in_park,
        coalesce(high_tech_year <= reporting_year, false) as is_high_tech,
        coalesce(little_giant_year <= reporting_year, false) as is_little_giant,
        coalesce(listing_date <= {{ year_end('reporting_year') }}, false) as is_listed
    from companies

),

final as (

    select
        base_code,
        reporting_year,
        credit_code,
        submission_id,
        source_row,
        company_name,
        founded_date,
        entered_date,
        left_date,
        status_code,
        industry_code,
        high_tech_year,
        little_giant_year,
        listing_board_code,
        listing_ticker,
        listing_date,
        is_returnee_enterprise,
        is_incubated,
        is_in_park,
        is_high_tech,
        is_little_giant,
        is_listed,
        revenue_yuan,
        tax_yuan,
        employees
    from flagged

)

select * from final
