{#- Parsing of submitted text in SQL. Raw values are VARCHAR exactly as a base typed them; these
    macros read every spelling that submission validation accepts (parkwh.submission.values), so
    a value that passed validation always parses here. Staging is the only layer that calls them.
    Only portable SQL (translate, replace, split_part, cast) is used directly;
    anything engine-specific sits behind adapter.dispatch in portability.sql. -#}

{#- Full-width ASCII (ＡＢＣ１２３，．) and the ideographic space fold to plain ASCII, as Unicode NFKC
    does for them; the full-width apostrophe and backslash are left out because they would need
    engine-specific escaping inside a string literal. Plain ASCII text (most values) skips the
    translation, which is costly per row. -#}
{% macro fold_width(expr) -%}
    case when {{ byte_length(expr) }} = length({{ expr }}) then {{ expr }} else translate({{ expr }},
        '！＂＃＄％＆（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　￥',
        '!"#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~ ¥') end
{%- endmacro %}

{#- The form two spellings of a label are compared in (as parkwh.submission.values.match_key):
    width folded, lower case, without spaces, underscores or hyphens. -#}
{% macro match_key(expr) -%}
    replace(replace(replace(lower(trim({{ fold_width(expr) }})), ' ', ''), '_', ''), '-', '')
{%- endmacro %}

{#- Plain text (names, cities): trimmed, NULL when blank; otherwise kept as written (an official
    name keeps its full-width brackets; compare names with match_key). -#}
{% macro clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- The digits of a number with its decorations removed: thousands separators, spaces, a
    currency sign or code, a trailing 元. A scale suffix (万亿, 亿, 万, 千) is kept for parse_number. -#}
{% macro number_text(expr) -%}
    replace(replace(replace(replace(replace(replace(
        {{ fold_width(expr) }}, ' ', ''), ',', ''), '¥', ''), 'RMB', ''), 'CNY', ''), '元', '')
{%- endmacro %}

{#- A number as DECIMAL(38,6): 1234.5, 1,234.5, １２３, 1.2万, 3亿, ¥100. Each macro here uses its
    argument's folded text once: SQL engines evaluate a repeated expression again, and macros
    that nest would multiply the repetitions. The scale suffix is read from the text as
    submitted (万, 亿 and 千 have no full-width forms), where validation allows it only at the end. -#}
{% macro parse_number(expr) -%}
    cast(nullif(replace(replace(replace({{ number_text(expr) }}, '万', ''), '亿', ''), '千', ''), '') as decimal(38, 6))
    * case
        when {{ expr }} like '%万亿%' then 1000000000000
        when {{ expr }} like '%亿%' then 100000000
        when {{ expr }} like '%万%' then 10000
        when {{ expr }} like '%千%' then 1000
        else 1
    end
{%- endmacro %}

{#- A whole number (a count) as BIGINT; 12.0 and 1.2万 are whole numbers too. -#}
{% macro parse_integer(expr) -%}
    cast({{ parse_number(expr) }} as bigint)
{%- endmacro %}

{#- A year of four digits: 2023, ２０２３, 2023年. -#}
{% macro parse_year(expr) -%}
    cast(nullif(trim(replace({{ fold_width(expr) }}, '年', '')), '') as integer)
{%- endmacro %}

{#- A calendar date: 2023-05-01, 2023/5/1, 2023.5.1, 2023年5月1日, 20230501; a time of day after
    the date (Excel cells) is dropped. date_text brings every form to Y-M-D or YYYYMMDD. -#}
{% macro date_text(expr) -%}
    nullif(replace(replace(replace(replace(replace(replace(
        split_part(split_part(trim({{ fold_width(expr) }}), ' ', 1), 'T', 1),
        '年', '-'), '月', '-'), '日', ''), '号', ''), '/', '-'), '.', '-'), '')
{%- endmacro %}

{% macro parse_date(expr) -%}
    {{ return(adapter.dispatch('parse_date', 'parkwh')(expr)) }}
{%- endmacro %}

{% macro default__parse_date(expr) -%}
    coalesce(to_date({{ date_text(expr) }}, 'y-M-d'), to_date({{ date_text(expr) }}, 'yyyyMMdd'))
{%- endmacro %}

{% macro duckdb__parse_date(expr) -%}
    cast(strptime({{ date_text(expr) }}, ['%Y-%m-%d', '%Y%m%d']) as date)
{%- endmacro %}

{#- Yes or no: 是/否, true/false, yes/no, 1/0, Y/N and the other words validation accepts. -#}
{% macro parse_bool(expr) -%}
    case
        when {{ match_key(expr) }} in ('是', 'true', 'yes', 'y', '1', 't', '对', '有', '√', '✓') then true
        when {{ match_key(expr) }} in ('否', 'false', 'no', 'n', '0', 'f', '不是', '无', '×', '✗') then false
    end
{%- endmacro %}

{#- The factor from a money column's unit to yuan. Ingestion writes the unit as 元, 万元 or 亿元
    (元 where the header named none); an unknown unit yields NULL, which the staging tests catch. -#}
{% macro yuan_factor(unit_expr) -%}
    case coalesce(trim({{ unit_expr }}), '元')
        when '元' then 1
        when '万元' then 10000
        when '亿元' then 100000000
    end
{%- endmacro %}

{#- Money in yuan as DECIMAL(18,2): the number times the factor of its column's unit. The one
    place units are converted; nothing downstream converts again. -#}
{% macro to_yuan(value_expr, unit_expr) -%}
    cast({{ parse_number(value_expr) }} * {{ yuan_factor(unit_expr) }} as decimal(18, 2))
{%- endmacro %}

{#- A unified social credit code as one company is known by in every base and year: width
    folded, upper case, without spaces or hyphens. -#}
{% macro normalise_credit_code(expr) -%}
    nullif(upper(replace(replace(trim({{ fold_width(expr) }}), ' ', ''), '-', '')), '')
{%- endmacro %}

{#- A base code (SH001): width folded, upper case. -#}
{% macro normalise_base_code(expr) -%}
    nullif(upper(trim({{ fold_width(expr) }})), '')
{%- endmacro %}

{#- A left join to stg_enum_labels that maps one enumerated column to its code: select
    <alias>.code afterwards. Every spelling validation accepts (code, Chinese or English label)
    matches. -#}
{% macro join_enum(alias, enum_name, expr) -%}
    left join {{ ref('stg_enum_labels') }} as {{ alias }}
        on {{ alias }}.enum_name = '{{ enum_name }}'
        and {{ alias }}.label_key = {{ match_key(expr) }}
{%- endmacro %}
