{#- Helpers of the evaluation method's models (models/method/). Portable SQL only; what one engine
    spells differently sits behind adapter.dispatch (a Spark default__ and a duckdb__). -#}

{#- The figures of fct_base_year an indicator may be computed from (docs/figures.md); the
    catalogue's numerator and denominator name one of them (parkwh.method.catalogue.FIGURES). -#}
{% macro method_figures() -%}
    {{ return(['enterprises_in_park', 'returnees_in_park', 'incubated_cum', 'high_tech_cum',
               'little_giants_cum', 'listed_cum', 'returnees_cum', 'talent_national',
               'talent_provincial', 'revenue_yuan', 'tax_yuan', 'service_events', 'vc_yuan',
               'fiscal_yuan']) }}
{%- endmacro %}

{#- The value of the figure named by name_expr, read from the row alias of fct_base_year, as a double. -#}
{% macro method_figure_value(name_expr, alias) -%}
    case {{ name_expr }}
    {%- for figure in method_figures() %}
        when '{{ figure }}' then cast({{ alias }}.{{ figure }} as double)
    {%- endfor %}
    end
{%- endmacro %}

{#- Rows k = 0 … n (a column named k): the numbers of winsorised points the outlier rule tries. -#}
{% macro method_integer_spine(n) -%}
    {%- for k in range(0, n + 1) %}
    select {{ k }} as k{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The most points the outlier rule may winsorise in any year (seeds/method_parameters.csv checks it). -#}
{% macro method_max_winsorised_points() -%}
    {{ return(20) }}
{%- endmacro %}

{#- The median (interpolated between the two middle values for an even count), as numpy's. -#}
{% macro method_median(expr) -%}
    {{ return(adapter.dispatch('method_median', 'parkwh')(expr)) }}
{%- endmacro %}

{% macro default__method_median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}

{% macro duckdb__method_median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{#- Round half away from zero to a number of decimals given by a column (SQL's round() wants a
    constant on some engines); the same arithmetic as parkwh.method.reference.round_half_away. -#}
{% macro method_round(expr, digits_expr) -%}
    (sign({{ expr }}) * floor(abs({{ expr }}) * power(10, {{ digits_expr }}) + 0.5) / power(10, {{ digits_expr }}))
{%- endmacro %}

{#- COINr's sample skewness (Excel SKEW, e1071 type 2) from the count and the sums of squared and
    cubed deviations from the mean; NULL below 3 values or without spread. -#}
{% macro method_skewness(n, m2, m3) -%}
    case when {{ n }} >= 3 and {{ m2 }} > 0 then
        sqrt(cast({{ n }} as double)) * {{ m3 }} / power({{ m2 }}, 1.5)
        * sqrt(cast({{ n }} as double) * ({{ n }} - 1)) / ({{ n }} - 2)
    end
{%- endmacro %}

{#- COINr's sample excess kurtosis (Excel KURT, e1071 type 2) from the count and the sums of
    squared and fourth-power deviations; NULL below 4 values or without spread. -#}
{% macro method_kurtosis(n, m2, m4) -%}
    case when {{ n }} >= 4 and {{ m2 }} > 0 then
        ((cast({{ n }} as double) + 1) * (cast({{ n }} as double) * {{ m4 }} / power({{ m2 }}, 2) - 3) + 6)
        * ({{ n }} - 1) / ((cast({{ n }} as double) - 2) * ({{ n }} - 3))
    end
{%- endmacro %}

{#- COINr's outlier rule: |skewness| >= threshold and kurtosis >= threshold; undefined statistics pass. -#}
{% macro method_has_outliers(skewness, kurtosis, skew_threshold, kurtosis_threshold) -%}
    coalesce(abs({{ skewness }}) >= {{ skew_threshold }} and {{ kurtosis }} >= {{ kurtosis_threshold }}, false)
{%- endmacro %}
