-- Personal data never leaves the raw schema: no relation outside raw has a column named like a
-- personal field of the talent roster (person_name, id_number, phone). Built last, so it sees
-- every relation dbt made.
-- depends_on: {{ ref('candidate_report_summary') }}
-- depends_on: {{ ref('dim_talent') }}
-- depends_on: {{ ref('fct_talent_year') }}
-- depends_on: {{ ref('base_year_reconciliation') }}
{{ config(
    enabled=(target.type == 'duckdb'),
    meta={'dagster': {'ref': {'name': 'candidate_report_summary'}}},
) }}

select
    table_schema,
    table_name,
    column_name
from information_schema.columns
where lower(table_schema) not in ('raw', 'information_schema', 'pg_catalog')
    and table_catalog = '{{ target.database }}'
    and lower(column_name) in ('person_name', 'id_number', 'phone')
