{#- COD-aware RFM (SPEC §3): only delivered orders count, because an RTO or a cancelled
    order brought no cash.

    Scores: score = 1 + floor(5 × percent_rank), capped at 5, where percent_rank =
    (rank − 1) / (n − 1) over the customers with a delivered order (n of them) and rank()
    gives tied values the same rank: tied customers always share a score, so a quintile
    can hold more or fewer than a fifth of the customers. Computed from integer ranks
    (not from percent_rank()'s float) so that a value exactly on an edge is never moved
    by rounding. Recency is ranked by days since the last delivered order descending,
    so the most recent get 5. A lone customer (n = 1) scores 1-1-1. -#}
with

customers as (
    select * from {{ ref('int_customer_order_stats') }}
),

run_date as (
    select * from {{ ref('int_run_date') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

measured as (
    select
        customers.customer_phone,
        run_date.as_of_date,
        customers.orders_delivered > 0 as has_delivered_order,
        customers.last_delivered_at,
        case
            when customers.last_delivered_at is not null
                then {{ dbt.datediff('cast(customers.last_delivered_at as date)', 'run_date.as_of_date', 'day') }}
        end as recency_days,
        customers.orders_delivered as frequency,
        customers.delivered_revenue as monetary,
        customers.refusals,
        customers.orders_unconfirmed
    from customers
    cross join run_date
),

ranked as (
    select
        customer_phone,
        rank() over (order by recency_days desc) as recency_rank,
        rank() over (order by frequency) as frequency_rank,
        rank() over (order by monetary) as monetary_rank,
        count(*) over () as ranked_customers
    from measured
    where has_delivered_order
),

scored as (
    select
        customer_phone,
        {% for measure in ['recency', 'frequency', 'monetary'] %}
            case
                when ranked_customers = 1 then 1
                when 1 + floor(5.0 * ({{ measure }}_rank - 1) / nullif(ranked_customers - 1, 0)) > 5 then 5
                else {{ dbt.cast(
                    '1 + floor(5.0 * (' ~ measure ~ '_rank - 1) / nullif(ranked_customers - 1, 0))',
                    api.Column.translate_type('integer')
                ) }}
            end as {{ measure }}_score{% if not loop.last %},{% endif %}
        {% endfor %}
    from ranked
),

with_fm as (
    select
        *,
        -- Mean of F and M rounded half up: F and M move together for COD buyers.
        {{ dbt.cast('floor((frequency_score + monetary_score) / 2.0 + 0.5)', api.Column.translate_type('integer')) }}
            as fm_score
    from scored
),

final as (
    select
        measured.customer_phone,
        measured.as_of_date,
        measured.has_delivered_order,
        measured.last_delivered_at,
        measured.recency_days,
        measured.frequency,
        measured.monetary,
        with_fm.recency_score,
        with_fm.frequency_score,
        with_fm.monetary_score,
        with_fm.fm_score,
        case
            when with_fm.customer_phone is not null then {{ dbt.concat([
                dbt.cast('with_fm.recency_score', api.Column.translate_type('string')),
                dbt.cast('with_fm.frequency_score', api.Column.translate_type('string')),
                dbt.cast('with_fm.monetary_score', api.Column.translate_type('string')),
            ]) }}
        end as rfm_cell,
        case
            when not measured.has_delivered_order then 'No Delivered Order'
            else segment_map.rfm_segment
        end as rfm_segment,
        measured.refusals,
        measured.orders_unconfirmed,
        -- COD overlay: a refusal at the door, or a habit of cancelling / not answering.
        (
            measured.refusals >= {{ var('potential_refuser_min_refusals') }}
            or measured.orders_unconfirmed >= {{ var('potential_refuser_min_unconfirmed_orders') }}
        ) as is_potential_refuser,
        case
            when measured.refusals >= {{ var('potential_refuser_min_refusals') }}
                or measured.orders_unconfirmed >= {{ var('potential_refuser_min_unconfirmed_orders') }}
                then 'Potential Refusers'
            when not measured.has_delivered_order then 'No Delivered Order'
            else segment_map.rfm_segment
        end as rfm_segment_with_overlay
    from measured
    left join with_fm on measured.customer_phone = with_fm.customer_phone
    left join segment_map
        on with_fm.recency_score = segment_map.recency_score
        and with_fm.fm_score = segment_map.fm_score
)

select * from final
