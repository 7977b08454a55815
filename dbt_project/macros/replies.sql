{#- The key a customer's reply is matched on in the `reply_vocabulary` seed: lower
    case, accents removed, every run of characters that is not a letter or a digit (any
    script: Arabic letters stay) read as one space, trimmed. "  Oui ! ", "OUI" and
    "oui." are the key `oui`; "Confirmé" is `confirme`; "STOP-ALL" is `stop all`. -#}
{% macro reply_key(expr) -%}
    {{ return(adapter.dispatch('reply_key', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__reply_key(expr) -%}
    lower(trim({{ expr }}))
{%- endmacro %}

{% macro duckdb__reply_key(expr) -%}
    trim(regexp_replace(lower(strip_accents({{ expr }})), '[^\p{L}\p{N}]+', ' ', 'g'))
{%- endmacro %}

{#- Spark: no strip_accents, so translate() the accented Latin letters (after lower());
    regexp_replace replaces every match; the literal doubles its backslashes. -#}
{% macro spark__reply_key(expr) -%}
    trim(
        regexp_replace(
            translate(lower({{ expr }}), 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy'),
            '[^\\p{L}\\p{N}]+',
            ' '
        )
    )
{%- endmacro %}
