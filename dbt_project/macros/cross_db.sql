{#- Small portable helpers the marts use where engines differ. dbt's own cross-database
    macros (dbt.datediff, dbt.dateadd, dbt.date_trunc, dbt.listagg, …) cover the rest. -#}

{#- A share: numerator / denominator as a decimal number, null when the denominator is 0.
    `1.0 *` avoids integer division on engines that truncate (Postgres, Redshift). -#}
{% macro safe_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_ratio', 'cod360')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_ratio(numerator, denominator) -%}
    ((1.0 * ({{ numerator }})) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- Spark types 1.0 as a decimal and divides decimals at 6 places: a double, as DuckDB. -#}
{% macro spark__safe_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif({{ denominator }}, 0))
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

{#- Whether a comma-separated tag list (Shopify REST `tags`: "cod-confirmed, vip")
    holds `tag`; plain string functions, the same on every engine. -#}
{% macro tag_listed(tags_expr, tag) -%}
    (',' || replace(coalesce({{ tags_expr }}, ''), ' ', '') || ',') like '%,{{ tag }},%'
{%- endmacro %}

{#- The rows of `relation` (a relation or CTE name) that come first in their key: one row
    per `partition_by`, the first by `order_by`. A row_number() subquery, which every
    engine runs (DuckDB's QUALIFY is shorter, but Spark 3.5 rejects it). `columns` lists
    the columns to keep (Spark 3.5 has no `select * exclude`); without it the rank comes
    along as the extra column `row_rank_in_key`. -#}
{% macro deduplicate_first(relation, partition_by, order_by, columns=none) -%}
    select {% if columns %}{{ columns | join(', ') }}{% else %}*{% endif %}
    from (
        select
            {{ relation }}.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as row_rank_in_key
        from {{ relation }}
    ) as ranked
    where row_rank_in_key = 1
{%- endmacro %}

{#- A group's values of a column joined by `delimiter`, in sorted order, so the text is the
    same on every engine (dbt.listagg ignores its order on Spark). -#}
{% macro sorted_listagg(expr, delimiter) -%}
    {{ return(adapter.dispatch('sorted_listagg', 'cod360')(expr, delimiter)) }}
{%- endmacro %}

{% macro default__sorted_listagg(expr, delimiter) -%}
    {{ dbt.listagg(expr, "'" ~ delimiter ~ "'", 'order by ' ~ expr) }}
{%- endmacro %}

{% macro spark__sorted_listagg(expr, delimiter) -%}
    array_join(array_sort(collect_list({{ expr }})), '{{ delimiter }}')
{%- endmacro %}

{#- Whether a text is a whole match of a regular expression. Spark string literals treat
    the backslash as an escape, so patterns here avoid it (`[+]`, not `\+`). -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'cod360')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expr, pattern) -%}
    regexp_like({{ expr }}, '^(?:{{ pattern }})$')
{%- endmacro %}

{% macro duckdb__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{#- Whether a text ends with a match of a regular expression (no backslashes, as above). -#}
{% macro regex_ends_with(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_ends_with', 'cod360')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_ends_with(expr, pattern) -%}
    regexp_like({{ expr }}, '(?:{{ pattern }})$')
{%- endmacro %}

{% macro duckdb__regex_ends_with(expr, pattern) -%}
    regexp_matches({{ expr }}, '(?:{{ pattern }})$')
{%- endmacro %}

{% macro spark__regex_ends_with(expr, pattern) -%}
    ({{ expr }} rlike '(?:{{ pattern }})$')
{%- endmacro %}

{#- The incremental strategy of the per-run-date histories: replace the run date's rows.
    DuckDB deletes and inserts on the key; Spark (parquet tables, no merge without Delta)
    overwrites the run date's partition, so the model must be partitioned by that date
    (`history_partition_by`). -#}
{% macro history_incremental_strategy() -%}
    {{ return(adapter.dispatch('history_incremental_strategy', 'cod360')()) }}
{%- endmacro %}

{% macro default__history_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__history_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- The table partitioning a history needs for its strategy: none on DuckDB. -#}
{% macro history_partition_by(column) -%}
    {{ return(adapter.dispatch('history_partition_by', 'cod360')(column)) }}
{%- endmacro %}

{% macro default__history_partition_by(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__history_partition_by(column) -%}
    {{ return([column]) }}
{%- endmacro %}

{#- A regular expression as a string literal. Spark's string literals read a backslash as
    an escape (`'\s'` is `s`), so its literal doubles them; DuckDB's keep them as written.
    Write the pattern's backslashes doubled in Jinja (`'\\s*'`). -#}
{% macro regex_pattern(pattern) -%}
    {{ return(adapter.dispatch('regex_pattern', 'cod360')(pattern)) }}
{%- endmacro %}

{% macro default__regex_pattern(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}

{% macro spark__regex_pattern(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") }}'
{%- endmacro %}
