with

source as (
    select * from {{ source('raw', 'shopify_orders') }}
),

parsed as (
    select
        'shopify:' || regexp_extract(payload ->> '$.id', '([0-9]+)$', 1) as order_ref,
        regexp_extract(payload ->> '$.id', '([0-9]+)$', 1) as platform_order_id,
        payload ->> '$.name' as order_number,
        {{ iso_to_utc("payload ->> '$.createdAt'") }} as placed_at,
        {{ iso_to_utc("payload ->> '$.updatedAt'") }} as updated_at,
        {{ iso_to_utc("payload ->> '$.cancelledAt'") }} as cancelled_at,
        {{ iso_to_utc(json_text('payload', '$.closedAt')) }} as closed_at,
        payload ->> '$.cancelReason' as cancel_reason,
        payload ->> '$.displayFinancialStatus' as financial_status,
        payload ->> '$.displayFulfillmentStatus' as fulfillment_status,
        cast(payload -> '$.tags' as varchar[]) as tags,
        cast(payload -> '$.paymentGatewayNames' as varchar[]) as payment_gateways,
        coalesce(
            payload ->> '$.shippingAddress.phone', payload ->> '$.phone', payload ->> '$.customer.phone'
        ) as phone_raw,
        coalesce(payload ->> '$.email', payload ->> '$.customer.email') as email,
        trim(
            coalesce(payload ->> '$.shippingAddress.firstName', payload ->> '$.customer.firstName', '')
            || ' '
            || coalesce(payload ->> '$.shippingAddress.lastName', payload ->> '$.customer.lastName', '')
        ) as customer_name,
        payload ->> '$.shippingAddress.city' as city_raw,
        payload ->> '$.shippingAddress.address1' as address,
        cast(payload ->> '$.totalPriceSet.shopMoney.amount' as decimal(12, 2)) as total_amount,
        payload ->> '$.totalPriceSet.shopMoney.currencyCode' as currency,
        (
            select coalesce(sum(cast(line_items.item ->> '$.quantity' as integer)), 0)
            from (select unnest(cast(payload -> '$.lineItems.nodes' as json[])) as item) as line_items
        ) as item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from source
),

final as (
    select
        order_ref,
        platform_order_id,
        'shopify' as platform,
        order_number,
        placed_at,
        updated_at,
        -- Shopify has no confirmation state: COD teams tag orders, and tags accumulate
        -- (cod-confirmed, then cod-delivered): the furthest one along wins.
        case
            when list_contains(tags, 'cod-returned') then 'tag:cod-returned'
            when list_contains(tags, 'cod-delivered') then 'tag:cod-delivered'
            when cancelled_at is not null then 'cancelled'
            when list_contains(tags, 'cod-cancelled') then 'tag:cod-cancelled'
            when list_contains(tags, 'cod-unreachable') then 'tag:cod-unreachable'
            when list_contains(tags, 'cod-confirmed') then 'tag:cod-confirmed'
            else 'fulfillment:' || lower(coalesce(fulfillment_status, 'unfulfilled'))
        end as raw_status,
        -- When Shopify closed / cancelled the order: the time the status was reached,
        -- which a later edit (a note, a tag) does not move.
        closed_at,
        cancelled_at,
        cancel_reason,
        case
            when list_contains(payment_gateways, 'Cash on Delivery (COD)') then 'cod'
            when len(coalesce(payment_gateways, [])) = 0 then 'cod'
            else 'prepaid'
        end as payment_method,
        phone_raw,
        email,
        nullif(customer_name, '') as customer_name,
        city_raw,
        address,
        total_amount,
        currency,
        item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from parsed
    -- A snapshot delivered twice (webhook retry, overlapping pull) counts once.
    qualify
        row_number() over (
            partition by order_ref, updated_at order by loaded_at, source_file, line_number
        ) = 1
)

select * from final
