-- One row per company across every base and year it was reported in: a company keeps one
-- identity, its credit code, when it moves between bases. Descriptive attributes come from
-- its latest report; milestones (certification, listing) from the earliest that states them.
with company_years as (

    select * from {{ ref('int_company_years_flagged') }}

),

latest as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by credit_code
                order by reporting_year desc, entered_date desc, base_code
            ) as recency_rank
        from company_years
    ) as ranked
    where recency_rank = 1

),

first_seen as (

    select *
    from (
        select
            credit_code,
            base_code,
            row_number() over (
                partition by credit_code
                order by reporting_year, entered_date, base_code
            ) as seniority_rank
        from company_years
    ) as ranked
    where seniority_rank = 1

),

spans as (

    select
        credit_code,
        min(reporting_year) as first_reporting_year,
        max(reporting_year) as last_reporting_year,
        count(distinct reporting_year) as years_reported,
        count(distinct base_code) as bases_count,
        min(founded_date) as founded_date,
        min(high_tech_year) as high_tech_year,
        min(little_giant_year) as little_giant_year,
        min(listing_date) as listing_date
    from company_years
    group by credit_code

),

final as (

    select
        spans.credit_code,
        latest.company_name,
        spans.founded_date,
        latest.industry_code,
        latest.is_returnee_enterprise,
        latest.status_code as latest_status_code,
        first_seen.base_code as first_base_code,
        latest.base_code as latest_base_code,
        spans.first_reporting_year,
        spans.last_reporting_year,
        cast(spans.years_reported as integer) as years_reported,
        cast(spans.bases_count as integer) as bases_count,
        spans.high_tech_year,
        spans.little_giant_year,
        latest.listing_board_code,
        latest.listing_ticker,
        spans.listing_date
    from spans
    inner join latest
        on latest.credit_code = spans.credit_code
    inner join first_seen
        on first_seen.credit_code = spans.credit_code

)

select * from final
