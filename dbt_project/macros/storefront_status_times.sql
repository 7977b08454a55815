{#- The first time the storefront showed each status, as aggregates over an order's
    snapshots (`status_reached_at` of int_storefront_order_snapshots: the platform's own
    completion / cancellation time, else the snapshot's update time). The first, so that
    a snapshot re-sent after an edit (a note added days later) never moves a status time.
    One definition for int_storefront_orders and int_orders_as_of. -#}
{% macro storefront_status_times(status_column, reached_at_column) -%}
    min(case when {{ status_column }} = 'confirmed' then {{ reached_at_column }} end) as confirmed_at,
    min(case when {{ status_column }} = 'cancelled' then {{ reached_at_column }} end) as cancelled_at,
    min(case when {{ status_column }} = 'unreachable' then {{ reached_at_column }} end) as unreachable_at,
    min(case when {{ status_column }} = 'delivered' then {{ reached_at_column }} end) as storefront_delivered_at,
    min(case when {{ status_column }} = 'returned' then {{ reached_at_column }} end) as storefront_returned_at
{%- endmacro %}
