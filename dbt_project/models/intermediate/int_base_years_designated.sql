-- One row per designated base and reporting year, whether or not the base submitted that year.
-- A base is known from its submissions of any year; it counts as designated in a year from its
-- designated_year on (and in any year it submitted). In a year without a submission its
-- attributes come from its nearest submission, earlier ones first.
with base_parts as (

    select * from {{ ref('stg_base') }}

),

in_force as (

    select * from {{ ref('int_submissions_in_force') }}

),

reporting_years as (

    select distinct reporting_year from in_force

),

bases as (

    select distinct base_code from in_force

),

-- The designation year as the base's latest submission states it.
designations as (

    select base_code, designated_year
    from (
        select
            base_code,
            designated_year,
            row_number() over (partition by base_code order by reporting_year desc) as recency_rank
        from base_parts
    ) as ranked
    where recency_rank = 1

),

candidate_years as (

    select
        bases.base_code,
        reporting_years.reporting_year,
        in_force.submission_id,
        designations.designated_year
    from bases
    cross join reporting_years
    left join in_force
        on in_force.base_code = bases.base_code
        and in_force.reporting_year = reporting_years.reporting_year
    left join designations
        on designations.base_code = bases.base_code

),

designated_years as (

    select *
    from candidate_years
    where submission_id is not null
        or designated_year <= reporting_year

),

attribute_sources as (

    select
        designated_years.base_code,
        designated_years.reporting_year,
        designated_years.submission_id,
        designated_years.designated_year,
        base_parts.reporting_year as attributes_year,
        base_parts.base_name_zh,
        base_parts.base_name_en,
        base_parts.province_code,
        base_parts.city_name,
        base_parts.operator_name,
        row_number() over (
            partition by designated_years.base_code, designated_years.reporting_year
            order by
                case when base_parts.reporting_year <= designated_years.reporting_year then 0 else 1 end,
                abs(base_parts.reporting_year - designated_years.reporting_year),
                base_parts.source_row
        ) as nearness_rank
    from designated_years
    inner join base_parts
        on base_parts.base_code = designated_years.base_code

),

final as (

    select
        base_code,
        reporting_year,
        submission_id is not null as submitted,
        submission_id,
        designated_year,
        attributes_year,
        base_name_zh,
        base_name_en,
        province_code,
        city_name,
        operator_name
    from attribute_sources
    where nearness_rank = 1

)

select * from final
