{#- Parsing of vendor timestamps into naive UTC timestamps, the one time type of the
    warehouse. Dispatched so that another engine can bring its own syntax. Spark's
    `timestamp` is the session's local time: the Spark targets set
    spark.sql.session.timeZone=UTC, so its timestamps are naive UTC too. -#}

{% macro iso_to_utc(expr) -%}
    {{ return(adapter.dispatch('iso_to_utc', 'cod360')(expr)) }}
{%- endmacro %}

{% macro default__iso_to_utc(expr) -%}
    cast(cast({{ expr }} as timestamp with time zone) as timestamp)
{%- endmacro %}

{% macro duckdb__iso_to_utc(expr) -%}
    cast(try_cast({{ expr }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__iso_to_utc(expr) -%}
    try_cast({{ expr }} as timestamp)
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

{% macro spark__naive_utc(expr) -%}
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

{% macro spark__epoch_to_utc(expr) -%}
    timestamp_seconds(try_cast({{ expr }} as bigint))
{%- endmacro %}

{#- Either of the above: ISO 8601 text or unix seconds (TikTok sends both). -#}
{% macro iso_or_epoch_to_utc(expr) -%}
    case
        when {{ regex_full_match(dbt.cast(expr, dbt.type_string()), '[0-9]+') }} then {{ epoch_to_utc(expr) }}
        else {{ iso_to_utc(expr) }}
    end
{%- endmacro %}

{#- A naive timestamp string in UTC, or ISO 8601 with an offset (LightFunnels sends the
    former when asked for `format: "YYYY-MM-DD HH:mm:ss"`, webhooks may send the latter). -#}
{% macro naive_or_iso_to_utc(expr) -%}
    case
        when {{ regex_ends_with(dbt.cast(expr, dbt.type_string()), 'Z|[+-][0-9]{2}:?[0-9]{2}') }} then {{ iso_to_utc(expr) }}
        else {{ naive_utc(expr) }}
    end
{%- endmacro %}

{#- A naive wall-clock timestamp string of a known time zone (PrestaShop's date_add /
    date_upd are in the shop's PS_TIMEZONE), as naive UTC. -#}
{% macro local_to_utc(expr, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'cod360')(expr, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(expr, tz) -%}
    cast(cast({{ expr }} as timestamp) at time zone '{{ tz }}' at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__local_to_utc(expr, tz) -%}
    cast(timezone('{{ tz }}', try_cast({{ expr }} as timestamp)) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__local_to_utc(expr, tz) -%}
    to_utc_timestamp(try_cast({{ expr }} as timestamp), '{{ tz }}')
{%- endmacro %}
