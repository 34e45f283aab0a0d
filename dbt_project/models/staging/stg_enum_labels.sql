-- Every spelling of every enumeration value that a submission may use (code, Chinese label,
-- English label), keyed as match_key spells it, with the code it maps to. Staging models join
-- it once per enumerated column.
with enums as (

    select * from {{ ref('submission_enums') }}

),

spellings as (

    select enum_name, code, code as spelling from enums
    union all
    select enum_name, code, label_zh as spelling from enums
    union all
    select enum_name, code, label_en as spelling from enums

),

final as (

    select distinct
        enum_name,
        {{ match_key('spelling') }} as label_key,
        code
    from spellings
    where spelling is not null

)

select * from final
