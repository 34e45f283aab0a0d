-- Each base's self-reported totals (where its base part carries them) against the figures the
-- warehouse computes from its rosters, one row per base, year and figure, for the quality gate.
with base_parts as (

    select * from {{ ref('stg_base') }}

),

figures as (

    select * from {{ ref('int_base_figures_yearly') }}

),

paired as (

    {% set reconciled = ['enterprises_in_park', 'returnees_in_park', 'incubated_cum', 'returnees_cum'] %}
    {% for figure in reconciled %}
    select
        base_parts.base_code,
        base_parts.reporting_year,
        base_parts.submission_id,
        '{{ figure }}' as figure_name,
        base_parts.reported_{{ figure }} as reported_value,
        figures.{{ figure }} as computed_value
    from base_parts
    inner join figures
        on figures.submission_id = base_parts.submission_id
    where base_parts.reported_{{ figure }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        base_code,
        reporting_year,
        submission_id,
        figure_name,
        cast(reported_value as bigint) as reported_value,
        cast(computed_value as bigint) as computed_value,
        cast(reported_value - computed_value as bigint) as difference,
        cast(
            case when computed_value <> 0
                then cast(reported_value - computed_value as decimal(18, 4)) / computed_value
            end as decimal(18, 4)
        ) as relative_difference,
        reported_value = computed_value as is_consistent
    from paired

)

select * from final
