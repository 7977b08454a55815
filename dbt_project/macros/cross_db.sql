{#- Small portable helpers the marts use where engines differ. dbt's own cross-database
    macros (dbt.datediff, dbt.dateadd, dbt.date_trunc, dbt.listagg, …) cover the rest. -#}

{#- A share: numerator / denominator as a decimal number, null when the denominator is 0.
    `1.0 *` avoids integer division on engines that truncate (Postgres, Redshift). -#}
{% macro safe_ratio(numerator, denominator) -%}
    ((1.0 * ({{ numerator }})) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- The median of a column, as an aggregate. -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'cod360')(expr)) }}
{%- endmacro %}

{#- SQL standard ordered-set aggregate (Postgres, Snowflake, Redshift, Trino). -#}
{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro bigquery__median(expr) -%}
    approx_quantiles({{ expr }}, 2)[offset(1)]
{%- endmacro %}

{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}

{#- A scalar of a JSON document as text, by JSON path (`$.a.b`); null when absent. JSON
    has no dbt cross-database macro, so the project brings its own. -#}
{% macro json_text(json_expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'cod360')(json_expr, path)) }}
{%- endmacro %}

{% macro default__json_text(json_expr, path) -%}
    json_value({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{% macro duckdb__json_text(json_expr, path) -%}
    ({{ json_expr }} ->> '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(json_expr, path) -%}
    get_json_object({{ json_expr }}, '{{ path }}')
{%- endmacro %}

{#- The sum of one integer field over the objects of a JSON array (`$.line_items`,
    `quantity`): 0 when the array is absent or empty. -#}
{% macro json_array_sum(json_expr, array_path, field) -%}
    {{ return(adapter.dispatch('json_array_sum', 'cod360')(json_expr, array_path, field)) }}
{%- endmacro %}

{% macro duckdb__json_array_sum(json_expr, array_path, field) -%}
    coalesce(list_sum(list_transform(
        cast({{ json_expr }} -> '{{ array_path }}' as json[]),
        lambda item: cast(item ->> '$.{{ field }}' as integer)
    )), 0)
{%- endmacro %}

{% macro spark__json_array_sum(json_expr, array_path, field) -%}
    coalesce(aggregate(
        from_json(get_json_object({{ json_expr }}, '{{ array_path }}'), 'array<struct<{{ field }}:int>>'),
        0,
        (total, item) -> total + coalesce(item.{{ field }}, 0)
    ), 0)
{%- endmacro %}

{#- Whether a comma-separated tag list (Shopify REST `tags`: "cod-confirmed, vip")
    holds `tag`; plain string functions, the same on every engine. -#}
{% macro tag_listed(tags_expr, tag) -%}
    (',' || replace(coalesce({{ tags_expr }}, ''), ' ', '') || ',') like '%,{{ tag }},%'
{%- endmacro %}
