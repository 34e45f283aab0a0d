-- Cumulative figures never shrink from one year to the next for a base: a company incubated
-- or a returnee absorbed stays counted. Compares each submitted year with the base's previous
-- submitted year and returns every figure that went down.
with base_years as (

    select * from {{ ref('fct_base_year') }}
    where submitted

),

with_previous as (

    select
        base_code,
        reporting_year,
        incubated_cum,
        high_tech_cum,
        little_giants_cum,
        listed_cum,
        returnees_cum,
        lag(reporting_year) over (partition by base_code order by reporting_year) as previous_year,
        lag(incubated_cum) over (partition by base_code order by reporting_year) as previous_incubated_cum,
        lag(high_tech_cum) over (partition by base_code order by reporting_year) as previous_high_tech_cum,
        lag(little_giants_cum) over (partition by base_code order by reporting_year) as previous_little_giants_cum,
        lag(listed_cum) over (partition by base_code order by reporting_year) as previous_listed_cum,
        lag(returnees_cum) over (partition by base_code order by reporting_year) as previous_returnees_cum
    from base_years

)

{% set cumulative = ['incubated_cum', 'high_tech_cum', 'little_giants_cum', 'listed_cum', 'returnees_cum'] %}
{% for figure in cumulative %}
select
    base_code,
    reporting_year,
    previous_year,
    '{{ figure }}' as figure_name,
    previous_{{ figure }} as previous_value,
    {{ figure }} as current_value
from with_previous
where {{ figure }} < previous_{{ figure }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
