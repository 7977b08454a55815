{#- Parsing of vendor timestamps into naive UTC timestamps, the one time type of the
    warehouse. Dispatched so that another engine can bring its own syntax. -#}

{% macro iso_to_utc(expr) -%}
    {{ return(adapter.dispatch('iso_to_utc', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__iso_to_utc(expr) -%}
    cast(cast({{ expr }} as timestamp with time zone) as timestamp)
{%- endmacro %}

{% macro duckdb__iso_to_utc(expr) -%}
    cast(try_cast({{ expr }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- A naive timestamp string that is already UTC (WooCommerce *_gmt fields). -#}
{% macro naive_utc(expr) -%}
    {{ return(adapter.dispatch('naive_utc', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__naive_utc(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{% macro duckdb__naive_utc(expr) -%}
    try_cast({{ expr }} as timestamp)
{%- endmacro %}

{#- Unix seconds, as WhatsApp sends them (often as a string). -#}
{% macro epoch_to_utc(expr) -%}
    {{ return(adapter.dispatch('epoch_to_utc', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__epoch_to_utc(expr) -%}
    {{ dbt.dateadd('second', 'cast(' ~ expr ~ ' as bigint)', "cast('1970-01-01' as timestamp)") }}
{%- endmacro %}

{% macro duckdb__epoch_to_utc(expr) -%}
    cast(to_timestamp(try_cast({{ expr }} as bigint)) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- Either of the above: ISO 8601 text or unix seconds (TikTok sends both). -#}
{% macro iso_or_epoch_to_utc(expr) -%}
    case
        when regexp_full_match(cast({{ expr }} as varchar), '[0-9]+') then {{ epoch_to_utc(expr) }}
        else {{ iso_to_utc(expr) }}
    end
{%- endmacro %}
