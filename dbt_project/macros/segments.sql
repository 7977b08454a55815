{#- The segment files, validated and compiled by common/segments.py before dbt runs and
    passed as the var `cod360_segments` (the orchestration and the tests do it; by hand:
    `dbt build --vars "$(python -m common.segments)"`). Without the var, a run that builds
    the segment models stops and says so, instead of building no segment at all. -#}
{% macro compiled_segments() -%}
    {%- set segments = var('cod360_segments', none) -%}
    {%- if segments is none -%}
        {%- if execute and model.unique_id in selected_resources -%}
            {{ exceptions.raise_compiler_error(
                "The segment files are compiled before dbt runs: run through `cod360 run`, or pass "
                ~ "--vars \"$(python -m common.segments)\" to dbt (see dbt_project/segments/README.md)."
            ) }}
        {%- endif -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(segments) }}
{%- endmacro %}

{#- A text value as a string literal: the quoting rules differ (DuckDB doubles a quote;
    Spark escapes it with a backslash and would read '' as two adjacent literals). -#}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'cod360')(value)) }}
{%- endmacro %}

{% macro default__string_literal(value) -%}
    {%- if value is none -%}cast(null as {{ dbt.type_string() }}){%- else -%}
    '{{ value | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__string_literal(value) -%}
    {%- if value is none -%}cast(null as {{ dbt.type_string() }}){%- else -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{#- The columns of segment_definitions, in order. -#}
{% macro segment_definition_columns() -%}
    {{ return(['segment_name', 'label', 'description', 'source_file', 'filters_json', 'sql_condition', 'where_sql']) }}
{%- endmacro %}

{#- One select of literals per compiled segment file, union all; an empty typed select
    when there is no file, so the downstream models still build. -#}
{% macro segment_definition_rows() -%}
    {%- set segments = compiled_segments() -%}
    {%- for segment in segments or [none] %}
    select
        {%- for column in segment_definition_columns() %}
        cast({{ string_literal(segment[column] if segment else none) }} as {{ dbt.type_string() }}) as {{ column }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    {%- if not segment %}
    where 1 = 0
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One select per compiled segment over `base` (a relation or CTE with as_of_date and
    customer_phone), union all. segment_name is snake_case (validated): safe as a literal. -#}
{% macro segment_member_rows(base) -%}
    {%- set segments = compiled_segments() -%}
    {%- for segment in segments or [none] %}
    {%- if segment %}
    -- {{ segment.source_file }}
    {%- endif %}
    select
        cast({{ "'" ~ segment.segment_name ~ "'" if segment else 'null' }} as {{ dbt.type_string() }}) as segment_name,
        as_of_date,
        cast(customer_phone as {{ dbt.type_string() }}) as customer_phone
    from {{ base }}
    where {{ segment.where_sql if segment else '1 = 0' }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
