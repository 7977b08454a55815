with

source as (
    select * from {{ source('raw', 'woocommerce_orders') }}
),

final as (
    select
        'woocommerce:' || (payload ->> '$.id') as order_ref,
        payload ->> '$.id' as platform_order_id,
        'woocommerce' as platform,
        coalesce(payload ->> '$.number', payload ->> '$.id') as order_number,
        {{ naive_utc("payload ->> '$.date_created_gmt'") }} as placed_at,
        {{ naive_utc("payload ->> '$.date_modified_gmt'") }} as updated_at,
        lower(payload ->> '$.status') as raw_status,
        -- WooCommerce's own completion time: a later edit moves date_modified, not this.
        {{ naive_utc(json_text('payload', '$.date_completed_gmt')) }} as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as varchar) as cancel_reason,
        case when lower(payload ->> '$.payment_method') in ('cod', '') then 'cod' else 'prepaid' end
            as payment_method,
        coalesce(nullif(payload ->> '$.billing.phone', ''), nullif(payload ->> '$.shipping.phone', ''))
            as phone_raw,
        nullif(payload ->> '$.billing.email', '') as email,
        nullif(trim(
            coalesce(payload ->> '$.billing.first_name', '') || ' ' || coalesce(payload ->> '$.billing.last_name', '')
        ), '') as customer_name,
        coalesce(nullif(payload ->> '$.shipping.city', ''), payload ->> '$.billing.city') as city_raw,
        coalesce(nullif(payload ->> '$.shipping.address_1', ''), payload ->> '$.billing.address_1') as address,
        cast(payload ->> '$.total' as decimal(12, 2)) as total_amount,
        payload ->> '$.currency' as currency,
        (
            select coalesce(sum(cast(line_items.item ->> '$.quantity' as integer)), 0)
            from (select unnest(cast(payload -> '$.line_items' as json[])) as item) as line_items
        ) as item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
    qualify
        row_number() over (
            partition by order_ref, updated_at order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
