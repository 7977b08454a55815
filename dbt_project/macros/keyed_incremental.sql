{#- Incremental by entity key (issue 9). An intermediate model keyed by an entity (an
    order) rebuilds only the entities whose inputs changed since it last ran, and
    replaces their rows (delete+insert on the key). Used as:

        {{ config(
            materialized=keyed_materialization(), unique_key='order_ref',
            incremental_strategy='delete+insert'
        ) }}
        with
        {{ changed_keys('order_ref', [ref('stg_a'), ref('int_b')], seeds=[ref('a_seed')]) }}
        a as (select * from {{ ref('stg_a') }} {{ where_changed('order_ref') }}),
        ...       -- every input filtered by the CTE `changed` (incremental runs only)
        final as (
            ... {{ newest_staged_at(['a_staged_at', 'b_staged_at']) }} as staged_at,
            {{ seeds_fingerprint([ref('a_seed')]) }} as seeds_fingerprint ...
        )

    * Each input carries `staged_at`: staging models the time of the dbt run that appended
      the row (macros/incremental.sql); keyed models the newest `staged_at` among the
      inputs of the row. So `max(staged_at)` of this model is how far it has read, and
      the changed keys are those of input rows staged after that.
    * A seed (a status map, the city aliases) changes the meaning of every old row: when
      the fingerprint of the seeds differs from the one this model last read
      (`seeds_fingerprint`, kept in a column), every key is rebuilt.
    * Spark parquet tables have no merge or delete: there, `keyed_materialization()` is
      `table`, and `changed_keys` selects every key (the model rebuilds whole, as before).
    * `--full-refresh` rebuilds every key on both engines; a changed model fails its next
      incremental run (`on_schema_change='fail'`) rather than mix rows of two shapes. -#}

{% macro keyed_materialization() -%}
    {{ return(adapter.dispatch('keyed_materialization', 'cod360')()) }}
{%- endmacro %}

{% macro default__keyed_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__keyed_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- The CTE `changed` (with its trailing comma) on an incremental run: the keys of the
    input rows staged since this model last read, or every key when the seeds changed.
    Nothing on a full build, which reads everything. -#}
{% macro changed_keys(key, inputs, seeds=[]) -%}
    {%- if is_incremental() %}
changed as (
    {%- for input in inputs %}
    select {{ key }} from {{ input }}
    where staged_at > (
        select coalesce(max(staged_at), cast('1900-01-01 00:00:00' as timestamp)) from {{ this }}
    )
        or (select coalesce(max(seeds_fingerprint), '') from {{ this }}) != ({{ seeds_fingerprint(seeds) }})
    {% if not loop.last %}union{% endif %}
    {%- endfor %}
),
    {%- endif %}
{%- endmacro %}

{#- The newest `staged_at` of the given columns (nulls ignored: an order without tracking
    has no tracking `staged_at`). -#}
{% macro newest_staged_at(columns) -%}
    {%- if columns | length == 1 -%}
        {{ columns[0] }}
    {%- else -%}
        greatest({% for column in columns %}coalesce({{ column }}, cast('1900-01-01' as timestamp)){% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- One text that changes when any row of the seeds changes. -#}
{% macro seeds_fingerprint(seeds) -%}
    {%- if not seeds -%}
        cast('' as {{ dbt.type_string() }})
    {%- else -%}
        {{ adapter.dispatch('seeds_fingerprint', 'cod360')(seeds) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__seeds_fingerprint(seeds) -%}
    md5(concat({% for seed in seeds %}(select coalesce(string_agg(cast(s as varchar), '|' order by cast(s as varchar)), '') from {{ seed }} as s){% if not loop.last %}, '#', {% endif %}{% endfor %}))
{%- endmacro %}

{% macro spark__seeds_fingerprint(seeds) -%}
    md5(concat({% for seed in seeds %}(select coalesce(concat_ws('|', array_sort(collect_list(to_json(struct(*))))), '') from {{ seed }}){% if not loop.last %}, '#', {% endif %}{% endfor %}))
{%- endmacro %}

{#- `where <key> in (the changed keys)` on an incremental run; nothing on a full build. -#}
{% macro where_changed(key, changed='changed') -%}
    {%- if is_incremental() -%}
    where {{ key }} in (select {{ key }} from {{ changed }})
    {%- endif -%}
{%- endmacro %}
