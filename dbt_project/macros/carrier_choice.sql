{#- Log-odds and back, for combining delivery rates (carrier_city_delivery_rates). Plain
    SQL (ln, exp) on both engines; the argument is kept inside (0.001, 0.999) so a rate
    of 0 or 1 on tiny data cannot make an infinite log-odds. -#}
{% macro logit(p) -%}
    ln(greatest(least({{ p }}, 0.999), 0.001) / (1 - greatest(least({{ p }}, 0.999), 0.001)))
{%- endmacro %}

{% macro inv_logit(x) -%}
    (1.0 / (1.0 + exp(-({{ x }}))))
{%- endmacro %}
