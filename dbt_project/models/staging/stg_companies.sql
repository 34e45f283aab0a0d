-- The company roster of each submission in force: one row per company listed, typed; money in
-- yuan; credit codes normalised so one company is one code in every base and year.
with source as (

    select * from {{ source('raw', 'companies') }}

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
        {{ normalise_credit_code('source.credit_code') }} as credit_code,
        {{ clean_text('source.company_name') }} as company_name,
        {{ parse_date('source.founded_date') }} as founded_date,
        {{ parse_date('source.entered_date') }} as entered_date,
        {{ parse_date('source.left_date') }} as left_date,
        company_status.code as status_code,
        industry.code as industry_code,
        {{ parse_bool('source.returnee_founded') }} as is_returnee_founded,
        {{ parse_year('source.high_tech_year') }} as high_tech_year,
        {{ parse_year('source.little_giant_year') }} as little_giant_year,
        listing_board.code as listing_board_code,
        {{ clean_text('source.listing_ticker') }} as listing_ticker,
        {{ parse_date('source.listing_date') }} as listing_date,
        {{ to_yuan('source.revenue', 'source.revenue_unit') }} as revenue_yuan,
        {{ to_yuan('source.tax_paid', 'source.tax_paid_unit') }} as tax_yuan,
        {{ parse_integer('source.employees') }} as employees
    from source
    inner join in_force
        on in_force.submission_id = source.submission_id
    {{ join_enum('company_status', 'company_status', 'source.status') }}
    {{ join_enum('industry', 'industry', 'source.industry') }}
    {{ join_enum('listing_board', 'listing_board', 'source.listing_board') }}

)

select * from typed
