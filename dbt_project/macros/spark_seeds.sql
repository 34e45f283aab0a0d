{#- Seeds on Spark. dbt-spark loads a seed with bound parameters that it formats into the SQL
    text itself, without escaping: a quote inside a value (the seeds' descriptions have some)
    breaks the statement, and an empty cell arrives as the text 'None' instead of NULL. This
    override writes each value as an escaped Spark SQL literal instead, so a Spark seed holds
    what the CSV holds, as DuckDB's does. -#}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {% set batch_size = get_batch_size() %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(batch_size) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}
