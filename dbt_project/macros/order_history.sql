{#- The key an order's history is counted on: the customer's E.164 phone; an invalid
    phone written the same way twice is one key too (fraud and prank orders often reuse
    one bad number); an order with no phone at all has only itself. -#}
{% macro order_history_key(customer_phone, phone_raw, order_ref) -%}
    coalesce(
        {{ customer_phone }},
        {{ dbt.concat(["'raw:'", "lower(trim(" ~ phone_raw ~ "))"]) }},
        {{ dbt.concat(["'order:'", order_ref]) }}
    )
{%- endmacro %}

{#- Leak-free prior RTO counts of a dimension (city, carrier, platform) for every order:
    how many orders of the same dimension value had been delivered or returned, and how
    many returned, strictly before the order was placed.

    Portable cumulative window over a union of events: one "placement" row per order and
    one "resolution" row per delivered/returned order, ordered by time with placements
    first on a tie (an order resolved at the very second another is placed is not known
    yet). The running sums read on a placement row count only earlier resolutions. An
    order's own resolution always sorts after its own placement (clamped to placed_at if
    a source wrote it earlier), so it never counts for itself.

    `orders` is a relation or CTE with order_ref, placed_at, resolved_at, outcome and the
    dimension column. Returns order_ref, prior_resolved_orders, prior_returned_orders for
    every order whose dimension value is not null. -#}
{% macro prior_rto_counts(orders, dimension) -%}
    select order_ref, prior_resolved_orders, prior_returned_orders
    from (
        select
            order_ref,
            is_placement,
            sum(is_resolved) over (
                partition by dimension_value
                order by event_at, event_order, order_ref
                rows between unbounded preceding and current row
            ) as prior_resolved_orders,
            sum(is_returned) over (
                partition by dimension_value
                order by event_at, event_order, order_ref
                rows between unbounded preceding and current row
            ) as prior_returned_orders
        from (
            select
                {{ dimension }} as dimension_value,
                placed_at as event_at,
                0 as event_order,
                order_ref,
                1 as is_placement,
                0 as is_resolved,
                0 as is_returned
            from {{ orders }}
            where {{ dimension }} is not null
            union all
            select
                {{ dimension }} as dimension_value,
                case when resolved_at < placed_at then placed_at else resolved_at end as event_at,
                1 as event_order,
                order_ref,
                0 as is_placement,
                1 as is_resolved,
                case when outcome = 'returned' then 1 else 0 end as is_returned
            from {{ orders }}
            where {{ dimension }} is not null
              and outcome in ('delivered', 'returned')
        ) as events
    ) as cumulated
    where is_placement = 1
{%- endmacro %}
