-- Provinces, autonomous regions, municipalities and SARs with the region each belongs to.
with provinces as (

    select * from {{ ref('provinces') }}

),

final as (

    select
        province_code,
        province_name_zh,
        province_short_zh,
        province_name_en,
        region as region_code,
        case region
            when 'east' then 'East'
            when 'central' then 'Central'
            when 'west' then 'West'
            when 'northeast' then 'Northeast'
            when 'sar' then 'SARs'
        end as region_name_en,
        case region
            when 'east' then '东部'
            when 'central' then '中部'
            when 'west' then '西部'
            when 'northeast' then '东北'
            when 'sar' then '港澳'
        end as region_name_zh
    from provinces

)

select * from final
