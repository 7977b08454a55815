{#- RTO history (SPEC §3 "history by city, carrier, platform and customer"): what came
    back each month, by resolution month, so a month's numbers never change once it is
    over. The customer dimension is customer_360 / order_rto_history. -#}
with

orders as (
    select * from {{ ref('int_orders') }}
    where outcome in ('delivered', 'returned')
),

by_dimension as (
    {% for dimension in ['city', 'carrier', 'platform'] %}
        select
            '{{ dimension }}' as dimension,
            {{ dimension }} as dimension_value,
            cast({{ dbt.date_trunc('month', 'resolved_at') }} as date) as resolved_month,
            payment_method,
            outcome,
            total_amount
        from orders
        where {{ dimension }} is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

monthly as (
    select
        dimension,
        dimension_value,
        resolved_month,
        count(*) as resolved_orders,
        count(case when outcome = 'delivered' then 1 end) as delivered_orders,
        count(case when outcome = 'returned' then 1 end) as returned_orders,
        count(case when outcome = 'returned' and payment_method = 'cod' then 1 end) as returned_cod_orders,
        count(case when payment_method = 'cod' then 1 end) as resolved_cod_orders,
        coalesce(sum(case when outcome = 'returned' then total_amount end), 0) as returned_value
    from by_dimension
    group by dimension, dimension_value, resolved_month
),

final as (
    select
        dimension,
        dimension_value,
        resolved_month,
        resolved_orders,
        delivered_orders,
        returned_orders,
        returned_value,
        {{ safe_ratio('returned_orders', 'resolved_orders') }} as rto_rate,
        {{ safe_ratio('returned_cod_orders', 'resolved_cod_orders') }} as cod_rto_rate,
        -- Running totals up to and including the month: the rate "to date".
        sum(resolved_orders) over (
            partition by dimension, dimension_value order by resolved_month
            rows between unbounded preceding and current row
        ) as cumulative_resolved_orders,
        {{ safe_ratio(
            "sum(returned_orders) over (partition by dimension, dimension_value order by resolved_month rows between unbounded preceding and current row)",
            "sum(resolved_orders) over (partition by dimension, dimension_value order by resolved_month rows between unbounded preceding and current row)"
        ) }} as cumulative_rto_rate
    from monthly
)

select * from final
