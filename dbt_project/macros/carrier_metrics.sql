{#- The failure reasons of SPEC §2.1, in the order carrier marts show them. -#}
{% macro failure_reasons() -%}
    {{ return(['refused', 'unreachable', 'postponed', 'wrong_address', 'otp_not_provided', 'other']) }}
{%- endmacro %}

{#- Aggregates of int_carrier_parcels shared by the carrier marts: volumes, rates and
    durations (null below `carrier_performance_min_parcels` resolved parcels: at that
    volume one parcel moves a rate by several points), failed attempts by reason. -#}
{% macro carrier_parcel_metrics() -%}
    {%- set min_parcels = var('carrier_performance_min_parcels') -%}
    {%- set enough = "count(case when outcome in ('delivered', 'returned') then 1 end) >= " ~ min_parcels -%}
    count(*) as parcels_shipped,
    count(case when outcome = 'delivered' then 1 end) as parcels_delivered,
    count(case when outcome = 'returned' then 1 end) as parcels_returned,
    count(case when outcome in ('delivered', 'returned') then 1 end) as parcels_resolved,
    count(case when outcome = 'open' then 1 end) as parcels_in_flight,
    sum(is_delivered_first_attempt) as parcels_delivered_first_attempt,
    {{ enough }} as has_min_volume,
    case when {{ enough }} then
        {{ safe_ratio("count(case when outcome = 'delivered' then 1 end)", 'count(*)') }}
    end as delivery_rate,
    case when {{ enough }} then
        {{ safe_ratio("count(case when outcome = 'returned' then 1 end)",
                      "count(case when outcome in ('delivered', 'returned') then 1 end)") }}
    end as rto_rate,
    case when {{ enough }} then
        {{ safe_ratio('sum(is_delivered_first_attempt)',
                      "count(case when outcome in ('delivered', 'returned') then 1 end)") }}
    end as first_attempt_delivery_rate,
    case when {{ enough }} then {{ median('days_to_deliver') }} end as median_days_to_deliver,
    case when {{ enough }} then avg(days_to_deliver) end as avg_days_to_deliver,
    sum(failed_attempts) as failed_attempts,
    {% for reason in failure_reasons() -%}
    sum(failed_attempts_{{ reason }}) as failed_attempts_{{ reason }},
    {% endfor -%}
    case
        {#- The most frequent reason, alphabetical on a tie (the reasons are listed sorted). -#}
        {%- set sorted_reasons = failure_reasons() | sort %}
        when sum(failed_attempts) = 0 then null
        {% for reason in sorted_reasons -%}
        when {% for other in sorted_reasons if other != reason -%}
            sum(failed_attempts_{{ reason }}) {{ '>=' if other > reason else '>' }} sum(failed_attempts_{{ other }})
            {%- if not loop.last %} and {% endif %}
        {%- endfor %} then '{{ reason }}'
        {% endfor -%}
    end as top_failure_reason
{%- endmacro %}
