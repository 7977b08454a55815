{#- The key a raw status word is matched on in the mapping seeds: trimmed, lower
    case, accents removed ("  Livré " and "LIVRE" match the same seed row), so
    analysts write each word once. -#}
{% macro status_key(expr) -%}
    {{ return(adapter.dispatch('status_key', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__status_key(expr) -%}
    lower(trim({{ expr }}))
{%- endmacro %}

{% macro duckdb__status_key(expr) -%}
    regexp_replace(lower(strip_accents(trim({{ expr }}))), '\s+', ' ', 'g')
{%- endmacro %}

{#- Spark has no strip_accents: translate() with the accented letters of the French and
    Spanish status words carriers send (after lower(), so lower case is enough). -#}
{% macro spark__status_key(expr) -%}
    regexp_replace(
        translate(lower(trim({{ expr }})), 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy'),
        '[ \t\n\r]+',
        ' '
    )
{%- endmacro %}
