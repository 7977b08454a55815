{#- Log-odds and back, for combining delivery rates (carrier_city_delivery_rates). Plain
    SQL (ln, exp) on both engines; the argument is kept inside (0.001, 0.999) so a rate
    of 0 or 1 on tiny data cannot make an infinite log-odds. -#}
{% macro logit(p) -%}
    ln(greatest(least({{ p }}, 0.999), 0.001) / (1 - greatest(least({{ p }}, 0.999), 0.001)))
{%- endmacro %}

{% macro inv_logit(x) -%}
    (1.0 / (1.0 + exp(-({{ x }}))))
{%- endmacro %}

{#- Resolved parcels and the delivered among them, the lead score's label (delivered /
    (delivered + returned)): the two columns every level of carrier_city_delivery_rates
    counts. -#}
{% macro delivered_and_resolved(outcome) -%}
    count(case when {{ outcome }} = 'delivered' then 1 end) as delivered,
    count(case when {{ outcome }} in ('delivered', 'returned') then 1 end) as resolved
{%- endmacro %}
