-- Every company any base has reported, one row per unified social credit code across bases
-- and years.
with histories as (

    select * from {{ ref('int_company_histories') }}

),

final as (

    select
        credit_code,
        company_name,
        founded_date,
        industry_code,
        is_returnee_enterprise,
        latest_status_code,
        first_base_code,
        latest_base_code,
        first_reporting_year,
        last_reporting_year,
        years_reported,
        bases_count,
        high_tech_year,
        little_giant_year,
        listing_board_code,
        listing_ticker,
        listing_date
    from histories

)

select * from final
