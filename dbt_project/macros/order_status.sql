{#- The canonical state of an order from its storefront status and its tracking:
    the carrier is the source of truth once the parcel moves; before that, the
    storefront. One definition for int_orders and int_orders_as_of, so the current
    state and a past run date's state can never disagree on the rule. -#}
{% macro order_status_precedence() -%}
    case
        when tracking_returned_at is not null
            and (tracking_delivered_at is null or tracking_returned_at > tracking_delivered_at)
            then 'returned'
        when tracking_delivered_at is not null then 'delivered'
        when tracking_status is not null and tracking_status != 'placed' then tracking_status
        when storefront_status in ('cancelled', 'delivered', 'returned', 'dispatched') then storefront_status
        when storefront_status in ('confirmed', 'unreachable', 'pending') then storefront_status
        else 'placed'
    end
{%- endmacro %}
