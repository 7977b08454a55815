{#- Parse once (issue 9). A staging model is an incremental table that appends the raw
    records loaded since it last grew, parsed and typed once; readers never re-parse the
    vendor JSON. Every staging model reads its raw table through `new_raw_rows` and ends
    with `not_yet_staged`:

        source as ( {{ new_raw_rows(source('raw', 'shopify_orders')) }} ),
        ...
        final as ( {{ deduplicate_first('final_candidates', partition_by=..., ...) }} )
        {{ not_yet_staged('final', ['order_ref', 'updated_at']) }}

    * Raw keeps the payload as received, so `dbt build --full-refresh` (Dagster: the
      DbtConfig `full_refresh` option) replays a changed staging model from raw.
    * `loaded_at` is the load time of a raw batch; DuckDB has one writer, so a batch loaded
      after a dbt run has a later `loaded_at` than every row that run staged. Of the
      records at the latest staged `loaded_at` (a batch loaded at the same instant, as
      tests do with a fixed load time, must not be missed) only those whose `record_id`
      is not staged yet are read again: re-parsing the whole last batch cost a 1 % delta
      ~10k Shopify payloads when the last file was large. A record that gave no row (a
      duplicate key, a webhook without statuses) is read again and dropped by key.
    * The key is the model's deduplication key: a record delivered again (webhook retry,
      overlapping pull, a re-sent file) whose key is already staged is not appended, as a
      full rebuild keeps the first delivery of each key.
    * `staged_at` is the time of the dbt invocation that appended the row: tests on
      staging check the newest batch (`get_where_subquery` below) on every run.
    The append strategy runs on both engines (Spark parquet tables have no merge). -#}
{% macro new_raw_rows(source_relation) -%}
    select * from {{ source_relation }}
    {%- if is_incremental() %}
    where loaded_at >= (
        select coalesce(max(loaded_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
    )
        and (
            loaded_at > (select max(loaded_at) from {{ this }})
            or record_id not in (
                select record_id from {{ this }}
                where loaded_at = (select max(loaded_at) from {{ this }})
            )
        )
    {%- endif %}
{%- endmacro %}

{% macro not_yet_staged(relation, key_columns) -%}
    select
        {{ relation }}.*,
        {{ invocation_timestamp() }} as staged_at
    from {{ relation }}
    {%- if is_incremental() %}
    left join (
        select {{ key_columns | join(', ') }}, 1 as already_staged from {{ this }}
    ) as staged
        on
        {%- for column in key_columns %}
            {{ null_safe_equal(relation ~ '.' ~ column, 'staged.' ~ column) }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
    where staged.already_staged is null
    {%- endif %}
{%- endmacro %}

{#- The start of this dbt invocation (UTC) as a timestamp literal: the same value for every
    row one run appends. -#}
{% macro invocation_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- Equality that treats two nulls as equal (a deduplication key may hold a null part, as
    `partition by` groups nulls together). -#}
{% macro null_safe_equal(left, right) -%}
    {{ return(adapter.dispatch('null_safe_equal', 'cod360')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equal(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}

{% macro spark__null_safe_equal(left, right) -%}
    {{ left }} <=> {{ right }}
{%- endmacro %}

{#- Tests where the risk is. A data test configured with `where: new_rows` (every test on
    the staging models: dbt_project.yml) checks the newest batch of its model, the rows the
    last run appended, instead of the whole history: old rows were checked when they were
    appended. `where: "new_rows and <condition>"` checks the newest batch's rows that meet
    the condition. `--vars '{test_scope: all}'` checks every row (the full-suite schedule
    and CI; a `--full-refresh` stages, and so checks, everything anyway). Any other `where`
    works as dbt's own. dbt dispatches get_where_subquery, and this project comes first
    (dispatch in dbt_project.yml). -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- set newest = 'staged_at = (select max(staged_at) from ' ~ relation ~ ')' -%}
    {%- if where == 'new_rows' or where.startswith('new_rows and ') -%}
        {%- set condition = where[13:] if where != 'new_rows' else '' -%}
        {%- if var('test_scope', 'new') == 'all' -%}
            {%- set where = condition -%}
        {%- else -%}
            {%- set where = newest ~ (' and (' ~ condition ~ ')' if condition else '') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
