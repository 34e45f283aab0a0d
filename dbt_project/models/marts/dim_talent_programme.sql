-- The levels of talent programme a returnee can be selected for, and the figure each counts in.
with programmes as (

    select * from {{ ref('submission_enums') }}
    where enum_name = 'talent_programme'

),

final as (

    select
        code as talent_programme_code,
        label_zh as talent_programme_name_zh,
        label_en as talent_programme_name_en,
        cast(case code
            when 'national_major' then 1
            when 'provincial' then 2
            when 'municipal' then 3
            else 4
        end as integer) as programme_level,
        case code
            when 'national_major' then 'talent_national'
            when 'provincial' then 'talent_provincial'
        end as report_figure
    from programmes

)

select * from final
