-- Every spelling of a province a submission may use (code, full or short Chinese name, English
-- name with or without "SAR", 中国 + short name), keyed as match_key spells it.
with provinces as (

    select * from {{ ref('provinces') }}

),

spellings as (

    select province_code, province_code as spelling from provinces
    union all
    select province_code, province_name_zh from provinces
    union all
    select province_code, province_short_zh from provinces
    union all
    select province_code, province_name_en from provinces
    union all
    select province_code, replace(province_name_en, ' SAR', '') from provinces
    union all
    select province_code, concat('中国', province_short_zh) from provinces

),

final as (

    select distinct
        {{ match_key('spelling') }} as label_key,
        province_code
    from spellings

)

select * from final
