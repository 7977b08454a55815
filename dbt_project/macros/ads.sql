{#- The ad attribution columns of the canonical orders (int_orders, int_orders_as_of), in
    one place so the two models carry the same set. `relation`: a table alias to prefix. -#}
{% macro ad_attribution_columns(relation=none) -%}
    {%- set columns = [
        'ad_channel', 'ad_source', 'ad_advertiser_id', 'ad_campaign', 'ad_id', 'ad_name',
        'ad_form_id', 'ad_form_name', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content'
    ] -%}
    {%- for column in columns -%}
        {{ relation ~ '.' if relation else '' }}{{ column }}{% if not loop.last %},
        {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- One text key per ad (the grain of ad_performance): channel, source, campaign, ad and
    form, "(none)" where a part is absent. The same expression builds the key in the mart,
    the KPI dimension and the segment base, so they join. -#}
{% macro ad_key(relation) -%}
    {{ dbt.concat([
        relation ~ '.ad_channel', "'|'",
        "coalesce(" ~ relation ~ ".ad_source, '(none)')", "'|'",
        "coalesce(" ~ relation ~ ".ad_campaign, '(none)')", "'|'",
        "coalesce(" ~ relation ~ ".ad_id, '(none)')", "'|'",
        "coalesce(" ~ relation ~ ".ad_form_id, '(none)')"
    ]) }}
{%- endmacro %}

{#- Wilson score interval of a binomial rate, successes out of trials (95 % with the default
    z): unlike p ± z·se it stays inside [0, 1] and does not collapse to a point on 0 / n or
    n / n, which is what a small ad shows. Null when there are no trials. Plain arithmetic
    and sqrt: the same SQL on DuckDB and Spark. -#}
{% macro wilson_lower(successes, trials, z=1.96) -%}
    {{ _wilson_bound(successes, trials, z, '-') }}
{%- endmacro %}

{% macro wilson_upper(successes, trials, z=1.96) -%}
    {{ _wilson_bound(successes, trials, z, '+') }}
{%- endmacro %}

{% macro _wilson_bound(successes, trials, z, sign) -%}
    {%- set n = 'cast(' ~ trials ~ ' as double)' -%}
    {%- set p = 'cast(' ~ successes ~ ' as double) / ' ~ n -%}
    {%- set z2 = (z * z) | string -%}
    case when {{ trials }} > 0 then
        greatest(0.0, least(1.0,
            (
                ({{ p }}) + {{ z2 }} / (2 * {{ n }})
                {{ sign }} {{ z }} * sqrt(({{ p }}) * (1 - ({{ p }})) / {{ n }} + {{ z2 }} / (4 * {{ n }} * {{ n }}))
            ) / (1 + {{ z2 }} / {{ n }})
        ))
    end
{%- endmacro %}
