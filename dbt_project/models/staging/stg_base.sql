-- The base part of each submission in force: one row per base and reporting year, typed.
with source as (

    select * from {{ source('raw', 'base') }}

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
        {{ clean_text('source.base_name_zh') }} as base_name_zh,
        {{ clean_text('source.base_name_en') }} as base_name_en,
        province.province_code,
        {{ clean_text('source.city') }} as city_name,
        {{ clean_text('source.operator') }} as operator_name,
        {{ parse_date('source.established_date') }} as established_date,
        {{ parse_year('source.designated_year') }} as designated_year,
        cast({{ parse_number('source.floor_area_m2') }} as decimal(18, 2)) as floor_area_m2,
        {{ parse_integer('source.staff') }} as staff_count,
        {{ parse_integer('source.service_events') }} as service_events,
        grade.code as incubator_grade_code,
        {{ parse_integer('source.reported_enterprises_in_park') }} as reported_enterprises_in_park,
        {{ parse_integer('source.reported_returnees_in_park') }} as reported_returnees_in_park,
        {{ parse_integer('source.reported_incubated_cum') }} as reported_incubated_cum,
        {{ parse_integer('source.reported_returnees_cum') }} as reported_returnees_cum
    from source
    inner join in_force
        on in_force.submission_id = source.submission_id
    left join {{ ref('stg_province_labels') }} as province
        on province.label_key = {{ match_key('source.province') }}
    {{ join_enum('grade', 'incubator_grade', 'source.incubator_grade') }}

)

select * from typed
