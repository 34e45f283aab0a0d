{#- The raw layer on engines other than DuckDB. In DuckDB, ingestion itself keeps raw.<table> as
    views over the landing Parquet files (parkwh.ingest.raw). Spark reads the same files: this
    macro (re)creates raw.<table> there as views over landing/<table>/ with the same contract
    (docs/architecture.md): hive partition reporting_year, columns cast to their raw types, a
    column absent from older files NULL, and a part row visible only once its version's
    submissions file has landed.

    parkwh.spark runs it before every build (dbt run-operation create_raw_views) and passes the
    layout of the landing folder as the var raw_layer, computed by the same code that makes the
    DuckDB views: {table: {"columns": [[name, type], ...], "present": [name, ...] or null}},
    where present is null for a table without any landed file (an empty view of the right shape),
    and "committed" says whether the table's rows wait for their version's submissions file.
    Without the var, every table is assumed to have files, and their own columns are taken. -#}

{% macro create_raw_views() -%}
    {{ return(adapter.dispatch('create_raw_views', 'parkwh')()) }}
{%- endmacro %}

{% macro default__create_raw_views() -%}
    {{ exceptions.raise_compiler_error(
        "create_raw_views: on " ~ target.type ~ " the raw views come from ingestion (parkwh.ingest.raw)") }}
{%- endmacro %}

{#- Where Spark finds the landing files: a local folder, or any URI the cluster reads (hdfs://, s3a://). -#}
{% macro landing_uri() -%}
    {{ return(env_var('PARKWH_LANDING_URI', '../warehouse/landing') | trim | replace('\\', '/') ) }}
{%- endmacro %}

{#- A raw column's type as Spark spells it. -#}
{% macro spark_raw_type(sql_type) -%}
    {%- set types = {'VARCHAR': 'string', 'INTEGER': 'int', 'BIGINT': 'bigint', 'TIMESTAMP': 'timestamp'} -%}
    {{- types.get(sql_type | upper, sql_type) -}}
{%- endmacro %}

{#- The tables of source raw, in the order their views must be made: submissions first (the part
    views' commit rule reads it). -#}
{% macro raw_tables() -%}
    {%- set tables = [] -%}
    {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
        {%- do tables.append(source.name) -%}
    {%- endfor -%}
    {%- set ordered = ['submissions'] if 'submissions' in tables else [] -%}
    {%- for table in tables | sort if table != 'submissions' -%}
        {%- do ordered.append(table) -%}
    {%- endfor -%}
    {{ return(ordered) }}
{%- endmacro %}

{% macro spark__create_raw_views() -%}
    {%- set layout = var('raw_layer', {}) -%}
    {%- set landing = landing_uri() -%}
    {%- set schema = source('raw', 'submissions').schema -%}
    {%- do run_query('create database if not exists ' ~ schema) -%}
    {%- for table in raw_tables() -%}
        {%- set spec = layout.get(table) -%}
        {%- set scan = 'parquet.`' ~ landing ~ '/' ~ table ~ '`' -%}
        {%- if spec is none -%}
            {%- set select = 'select * from ' ~ scan -%}
        {%- else -%}
            {%- set expressions = [] -%}
            {%- for column in spec['columns'] -%}
                {%- set name, sql_type = column[0], spark_raw_type(column[1]) -%}
                {%- if spec['present'] is not none and name in spec['present'] -%}
                    {%- do expressions.append('cast(`' ~ name ~ '` as ' ~ sql_type ~ ') as `' ~ name ~ '`') -%}
                {%- else -%}
                    {%- do expressions.append('cast(null as ' ~ sql_type ~ ') as `' ~ name ~ '`') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if spec['present'] is none -%}
                {%- set select = 'select ' ~ expressions | join(', ') ~ ' where false' -%}
            {%- else -%}
                {%- set select = 'select ' ~ expressions | join(', ') ~ ' from ' ~ scan -%}
            {%- endif -%}
        {%- endif -%}
        {%- if spec is none -%}
            {#- An expert score file is one part, its own commit; submissions is the commit mark. -#}
            {%- set committed = table not in ('submissions', 'expert_scores') -%}
        {%- else -%}
            {%- set committed = spec['committed'] and spec['present'] is not none -%}
        {%- endif -%}
        {%- if committed -%}
            {#- A part counts once its version's submissions file (written last) exists. -#}
            {%- set select = select ~ ' where submission_id in (select submission_id from '
                ~ schema ~ '.submissions)' -%}
        {%- endif -%}
        {%- do run_query('create or replace view ' ~ schema ~ '.' ~ table ~ ' as ' ~ select) -%}
        {%- do log('raw.' ~ table ~ ': view over ' ~ scan, info=true) -%}
    {%- endfor -%}
{%- endmacro %}

{#- A statement that does nothing, for parkwh.spark to have dbt start its Spark session with the
    profile's settings before any model runs. -#}
{% macro spark_session_ready() -%}
    {%- do run_query('select 1') -%}
{%- endmacro %}
