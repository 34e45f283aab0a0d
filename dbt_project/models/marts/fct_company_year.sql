-- One row per company, base and reporting year: what the base's roster in force says of the
-- company that year, with the year-end flags the figures count and its money in yuan.
with company_years as (

    select * from {{ ref('int_company_years_flagged') }}

),

final as (

    select
        {{ surrogate_key(['base_code', 'reporting_year', 'credit_code']) }} as company_year_id,
        reporting_year,
        base_code,
        credit_code,
        submission_id,
        entered_date,
        left_date,
        status_code,
        industry_code,
        is_returnee_enterprise,
        is_incubated,
        is_in_park,
        is_high_tech,
        is_little_giant,
        is_listed,
        revenue_yuan,
        tax_yuan,
        employees
    from company_years

)

select * from final
