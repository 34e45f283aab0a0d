-- One row per designated base and reporting year: whether the base submitted, and its figures
-- computed from the rosters of the submission in force (NULL for a base that did not submit).
-- The evaluation method and report_summary both start from here.
with designated as (

    select * from {{ ref('int_base_years_designated') }}

),

figures as (

    select * from {{ ref('int_base_figures_yearly') }}

),

base_versions as (

    select * from {{ ref('dim_base') }}

),

final as (

    select
        designated.base_code,
        designated.reporting_year,
        base_versions.base_version_id,
        designated.base_name_zh,
        designated.province_code,
        designated.submitted,
        designated.submission_id,
        figures.enterprises_in_park,
        figures.returnees_in_park,
        figures.incubated_cum,
        figures.high_tech_cum,
        figures.little_giants_cum,
        figures.listed_cum,
        figures.returnees_cum,
        figures.talent_national,
        figures.talent_provincial,
        figures.revenue_yuan,
        figures.tax_yuan,
        figures.service_events,
        figures.vc_yuan,
        figures.fiscal_yuan
    from designated
    left join figures
        on figures.submission_id = designated.submission_id
    -- The base's attributes that year come from a submitted year, which always lies in a version.
    left join base_versions
        on base_versions.base_code = designated.base_code
        and designated.attributes_year >= base_versions.valid_from_year
        and (base_versions.valid_to_year is null or designated.attributes_year <= base_versions.valid_to_year)

)

select * from final
