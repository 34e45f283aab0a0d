{#- The few engine-specific expressions parkwh needs, each behind adapter.dispatch: a default__
    in Spark SQL (the second engine the project builds on) and a duckdb__ implementation. -#}

{#- One row per day from start_date to end_date inclusive, in a column named date_day. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'parkwh')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    select explode(sequence(date '{{ start_date }}', date '{{ end_date }}', interval 1 day)) as date_day
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(range as date) as date_day
    from range(date '{{ start_date }}', date '{{ end_date }}' + interval 1 day, interval 1 day)
{%- endmacro %}

{#- ISO day of the week: Monday 1 … Sunday 7. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'parkwh')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    extract(dayofweek_iso from {{ date_expr }})
{%- endmacro %}

{% macro duckdb__iso_day_of_week(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}

{#- The length of a text in bytes (UTF-8): equal to its length in characters for plain ASCII. -#}
{% macro byte_length(expr) -%}
    {{ return(adapter.dispatch('byte_length', 'parkwh')(expr)) }}
{%- endmacro %}

{% macro default__byte_length(expr) -%}
    octet_length({{ expr }})
{%- endmacro %}

{% macro duckdb__byte_length(expr) -%}
    strlen({{ expr }})
{%- endmacro %}

{#- 31 December of a reporting year: the cut-off of every year-end figure. -#}
{% macro year_end(year_expr) -%}
    make_date({{ year_expr }}, 12, 31)
{%- endmacro %}

{#- A stable surrogate key from several columns (md5 of their text joined by '|'; NULL as ''). -#}
{% macro surrogate_key(columns) -%}
    md5(concat_ws('|'
    {%- for column in columns %}, coalesce(cast({{ column }} as {{ dbt.type_string() }}), ''){% endfor -%}
    ))
{%- endmacro %}
