{#- JSON access, one dispatched macro per operation: JSON has no dbt cross-database macro,
    so the project brings its own (as Fivetran's fivetran_utils.json_extract does). Raw
    payloads are JSON text on every engine (DuckDB's JSON type is text underneath). Paths
    are JSON paths (`$.a.b`, `$.items[0].id`). -#}

{#- A scalar of a JSON document as text; null when absent. -#}
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
    `quantity`): 0 when the array is absent or empty. A field sent as a string ("2", as
    PrestaShop's webservice does) counts as its number. -#}
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
        from_json(get_json_object({{ json_expr }}, '{{ array_path }}'), 'array<string>'),
        0,
        (total, item) -> total + coalesce(cast(get_json_object(item, '$.{{ field }}') as int), 0)
    ), 0)
{%- endmacro %}

{#- The number of items of a JSON array; null when the path is absent. -#}
{% macro json_array_length(json_expr, array_path) -%}
    {{ return(adapter.dispatch('json_array_length', 'cod360')(json_expr, array_path)) }}
{%- endmacro %}

{% macro duckdb__json_array_length(json_expr, array_path) -%}
    json_array_length({{ json_expr }}, '{{ array_path }}')
{%- endmacro %}

{% macro spark__json_array_length(json_expr, array_path) -%}
    json_array_length(get_json_object({{ json_expr }}, '{{ array_path }}'))
{%- endmacro %}

{#- Whether a JSON array of strings holds `value`; null when the array is absent. -#}
{% macro json_array_contains(json_expr, array_path, value) -%}
    {{ return(adapter.dispatch('json_array_contains', 'cod360')(json_expr, array_path, value)) }}
{%- endmacro %}

{% macro duckdb__json_array_contains(json_expr, array_path, value) -%}
    list_contains(cast({{ json_expr }} -> '{{ array_path }}' as varchar[]), '{{ value }}')
{%- endmacro %}

{% macro spark__json_array_contains(json_expr, array_path, value) -%}
    array_contains(from_json(get_json_object({{ json_expr }}, '{{ array_path }}'), 'array<string>'), '{{ value }}')
{%- endmacro %}

{#- One row per item of a JSON array, as a join clause placed right after a FROM item:
    `from source {{ json_array_rows('source.payload', '$.items', 'items', 'item') }}` gives
    `items.item`, each item as JSON text. `[*]` in the path walks nested arrays
    (`$.entry[*].changes[*].value.statuses`: every status of every change of every
    entry). A row whose array is absent or empty gives no rows, as an inner join. -#}
{% macro json_array_rows(json_expr, array_path, alias, column) -%}
    {{ return(adapter.dispatch('json_array_rows', 'cod360')(json_expr, array_path, alias, column)) }}
{%- endmacro %}

{% macro duckdb__json_array_rows(json_expr, array_path, alias, column) -%}
    {%- if '[*]' in array_path -%}
    cross join unnest(json_extract({{ json_expr }}, '{{ array_path }}[*]')) as {{ alias }} ({{ column }})
    {%- else -%}
    cross join unnest(cast({{ json_expr }} -> '{{ array_path }}' as json[])) as {{ alias }} ({{ column }})
    {%- endif -%}
{%- endmacro %}

{#- Spark: one LATERAL VIEW explode per nesting level; from_json to array<string> keeps
    each object item as its JSON text. -#}
{% macro spark__json_array_rows(json_expr, array_path, alias, column) -%}
    {%- set levels = array_path.split('[*]') -%}
    {%- set ns = namespace(parent=json_expr) -%}
    {%- for level in levels -%}
        {%- set level_path = level if loop.first else '$' ~ level -%}
        {%- if loop.last -%}
            {%- set level_alias, level_column = alias, column -%}
        {%- else -%}
            {%- set level_alias = alias ~ '_level_' ~ loop.index -%}
            {%- set level_column = level_alias ~ '_item' -%}
        {%- endif %}
    lateral view explode(
        from_json(get_json_object({{ ns.parent }}, '{{ level_path }}'), 'array<string>')
    ) {{ level_alias }} as {{ level_column }}
        {%- set ns.parent = level_alias ~ '.' ~ level_column -%}
    {%- endfor -%}
{%- endmacro %}

{#- Parse once per record. DuckDB parses a JSON document again for every `->>` on it, so
    a model reading 30 paths of one payload parsed each record 30 times: its staging took
    12.5 s for 108k Shopify orders, 2.0 s with every path read in one pass. A model lists
    the paths it reads once, extracts them together, and reads each one by its path:

        {%- set paths = ['$.id', '$.name'] %}
        extracted as (select *, {{ json_texts('payload', paths) }} as payload_texts from source),
        parsed as (select {{ json_at(paths, '$.id') }} as id ... )

    `json_texts` is a list of texts (DuckDB: `json_extract_string` over a list of paths,
    one parse; Spark: an array of `get_json_object`, as `json_text` there); a path not in
    the list is a compile error, not a silent null. `json_at` reads the column
    `payload_texts` unless told another (`json_at(paths, '$.id', 'status_texts')`). -#}
{% macro json_texts(json_expr, paths) -%}
    {{ return(adapter.dispatch('json_texts', 'cod360')(json_expr, paths)) }}
{%- endmacro %}

{% macro duckdb__json_texts(json_expr, paths) -%}
    json_extract_string({{ json_expr }}, [{% for path in paths %}'{{ path }}'{% if not loop.last %}, {% endif %}{% endfor %}])
{%- endmacro %}

{% macro spark__json_texts(json_expr, paths) -%}
    array({% for path in paths %}get_json_object({{ json_expr }}, '{{ path }}'){% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro json_at(paths, path, texts='payload_texts') -%}
    {%- if path not in paths -%}
        {{ exceptions.raise_compiler_error("json_at: " ~ path ~ " is not among the paths extracted: " ~ paths | join(', ')) }}
    {%- endif -%}
    {{ return(adapter.dispatch('json_text_at', 'cod360')(texts, paths.index(path) + 1)) }}
{%- endmacro %}

{% macro default__json_text_at(texts_expr, position) -%}
    {{ texts_expr }}[{{ position }}]
{%- endmacro %}

{% macro spark__json_text_at(texts_expr, position) -%}
    element_at({{ texts_expr }}, {{ position }})
{%- endmacro %}
