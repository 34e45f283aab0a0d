-- The bases, slowly changing (type 2): a new version whenever a base's name, province, city or
-- operator changes from one submitted year to the next, so history keeps what was true then.
-- designated_year and established_date are type 1 (the latest report's).
with base_years as (

    select * from {{ ref('stg_base') }}

),

compared as (

    select
        *,
        case
            when lag(reporting_year) over (partition by base_code order by reporting_year) is null then 1
            when lag(base_name_zh) over (partition by base_code order by reporting_year) is distinct from base_name_zh then 1
            when lag(base_name_en) over (partition by base_code order by reporting_year) is distinct from base_name_en then 1
            when lag(province_code) over (partition by base_code order by reporting_year) is distinct from province_code then 1
            when lag(city_name) over (partition by base_code order by reporting_year) is distinct from city_name then 1
            when lag(operator_name) over (partition by base_code order by reporting_year) is distinct from operator_name then 1
            else 0
        end as starts_version
    from base_years

),

numbered as (

    select
        *,
        sum(starts_version) over (
            partition by base_code order by reporting_year
            rows between unbounded preceding and current row
        ) as version_number
    from compared

),

versions as (

    select
        base_code,
        version_number,
        min(reporting_year) as valid_from_year,
        -- Within one version these attributes are equal by construction.
        max(base_name_zh) as base_name_zh,
        max(base_name_en) as base_name_en,
        max(province_code) as province_code,
        max(city_name) as city_name,
        max(operator_name) as operator_name
    from numbered
    group by base_code, version_number

),

latest as (

    select base_code, designated_year, established_date
    from (
        select
            base_code,
            designated_year,
            established_date,
            row_number() over (partition by base_code order by reporting_year desc) as recency_rank
        from base_years
    ) as ranked
    where recency_rank = 1

),

final as (

    select
        {{ surrogate_key(['versions.base_code', 'versions.valid_from_year']) }} as base_version_id,
        versions.base_code,
        versions.base_name_zh,
        versions.base_name_en,
        versions.province_code,
        versions.city_name,
        versions.operator_name,
        latest.designated_year,
        latest.established_date,
        cast(versions.version_number as integer) as version_number,
        versions.valid_from_year,
        cast(lead(versions.valid_from_year) over (
            partition by versions.base_code order by versions.valid_from_year
        ) - 1 as integer) as valid_to_year,
        lead(versions.valid_from_year) over (
            partition by versions.base_code order by versions.valid_from_year
        ) is null as is_current
    from versions
    inner join latest
        on latest.base_code = versions.base_code

)

select * from final
