{#- Schemas are named exactly as configured (staging, intermediate, marts, published): the public
    contract fixes them, so dbt's default of prefixing the target schema is turned off. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
