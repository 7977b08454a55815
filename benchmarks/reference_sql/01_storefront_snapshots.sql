-- Hand-written reference, step 1: every storefront order snapshot of the six order
-- sources, typed from the raw payload JSON, deduplicated, with its canonical status.
-- Same rules as the dbt staging models stg_<platform>__orders + int_storefront_order_snapshots.
-- One row per (order_ref, updated_at) (TikTok: per order_ref).

create or replace temp macro iso_utc(x) as cast(try_cast(x as timestamptz) at time zone 'UTC' as timestamp);
create or replace temp macro epoch_utc(x) as cast(to_timestamp(try_cast(x as bigint)) at time zone 'UTC' as timestamp);
create or replace temp macro status_key(x) as regexp_replace(lower(strip_accents(trim(x))), '\s+', ' ', 'g');
create or replace temp macro json_sum(items, field) as
    coalesce(list_sum([cast(item ->> field as integer) for item in cast(items as json[])]), 0);

create or replace temp table storefront_status_map as
select * from read_csv(getvariable('seeds') || '/storefront_status_map.csv', header = true, all_varchar = true);

create or replace temp table snapshots as
with

shopify as (
    select
        *,
        case
            when list_contains(tags, 'cod-returned') then 'tag:cod-returned'
            when list_contains(tags, 'cod-delivered') then 'tag:cod-delivered'
            when cancelled_at is not null then 'cancelled'
            when list_contains(tags, 'cod-cancelled') then 'tag:cod-cancelled'
            when list_contains(tags, 'cod-unreachable') then 'tag:cod-unreachable'
            when list_contains(tags, 'cod-confirmed') then 'tag:cod-confirmed'
            else 'fulfillment:' || lower(coalesce(fulfillment_status, 'unfulfilled'))
        end as raw_status,
        case
            when list_contains(gateways, 'Cash on Delivery (COD)') or len(coalesce(gateways, [])) = 0 then 'cod'
            else 'prepaid'
        end as payment_method
    from (
        select
            regexp_extract(payload ->> '$.id', '([0-9]+)$', 1) as platform_order_id,
            payload ->> '$.name' as order_number,
            iso_utc(payload ->> '$.createdAt') as placed_at,
            iso_utc(payload ->> '$.updatedAt') as updated_at,
            iso_utc(payload ->> '$.cancelledAt') as cancelled_at,
            payload ->> '$.cancelReason' as cancel_reason,
            payload ->> '$.displayFulfillmentStatus' as fulfillment_status,
            cast(payload -> '$.tags' as varchar[]) as tags,
            cast(payload -> '$.paymentGatewayNames' as varchar[]) as gateways,
            coalesce(payload ->> '$.shippingAddress.phone', payload ->> '$.phone', payload ->> '$.customer.phone')
                as phone_raw,
            coalesce(payload ->> '$.email', payload ->> '$.customer.email') as email,
            nullif(trim(
                coalesce(payload ->> '$.shippingAddress.firstName', payload ->> '$.customer.firstName', '') || ' '
                || coalesce(payload ->> '$.shippingAddress.lastName', payload ->> '$.customer.lastName', '')
            ), '') as customer_name,
            payload ->> '$.shippingAddress.city' as city_raw,
            payload ->> '$.shippingAddress.address1' as address,
            cast(payload ->> '$.totalPriceSet.shopMoney.amount' as decimal(12, 2)) as total_amount,
            payload ->> '$.totalPriceSet.shopMoney.currencyCode' as currency,
            json_sum(payload -> '$.lineItems.nodes', '$.quantity') as item_count,
            source_file, line_number, loaded_at
        from raw.shopify_orders
    )
),

lightfunnels as (
    select
        *,
        case when cancelled_at is not null then 'cancelled' else financial_status end
            || '/' || fulfillment_status as raw_status,
        case
            when bool_or(
                financial_status = 'paid' and fulfillment_status = 'unfulfilled' and cancelled_at is null
            ) over (partition by platform_order_id) then 'prepaid'
            else 'cod'
        end as payment_method
    from (
        select
            payload ->> '$._id' as platform_order_id,
            coalesce(payload ->> '$.name', payload ->> '$._id') as order_number,
            case when regexp_matches(payload ->> '$.created_at', '(Z|[+-][0-9]{2}:?[0-9]{2})$')
                then iso_utc(payload ->> '$.created_at') else try_cast(payload ->> '$.created_at' as timestamp)
            end as placed_at,
            case when regexp_matches(payload ->> '$.updated_at', '(Z|[+-][0-9]{2}:?[0-9]{2})$')
                then iso_utc(payload ->> '$.updated_at') else try_cast(payload ->> '$.updated_at' as timestamp)
            end as updated_at,
            nullif(payload ->> '$.cancelled_at', '') as cancelled_at,
            lower(coalesce(nullif(payload ->> '$.financial_status', ''), 'pending')) as financial_status,
            lower(coalesce(nullif(payload ->> '$.fulfillment_status', ''), 'unfulfilled')) as fulfillment_status,
            coalesce(
                nullif(payload ->> '$.shipping_address.phone', ''), nullif(payload ->> '$.phone', ''),
                nullif(payload ->> '$.customer.phone', '')
            ) as phone_raw,
            coalesce(nullif(payload ->> '$.email', ''), nullif(payload ->> '$.customer.email', '')) as email,
            coalesce(
                nullif(trim(
                    coalesce(payload ->> '$.shipping_address.first_name', '') || ' '
                    || coalesce(payload ->> '$.shipping_address.last_name', '')
                ), ''),
                nullif(payload ->> '$.customer.full_name', '')
            ) as customer_name,
            nullif(payload ->> '$.shipping_address.city', '') as city_raw,
            nullif(payload ->> '$.shipping_address.line1', '') as address,
            cast(payload ->> '$.total' as decimal(12, 2)) as total_amount,
            payload ->> '$.currency' as currency,
            coalesce(json_array_length(payload -> '$.items'), 0) as item_count,
            source_file, line_number, loaded_at
        from raw.lightfunnels_orders
    )
),

tiktok_answers as (
    select
        record_id,
        max(case when question in ('full_name', 'name') then answer end) as customer_name,
        max(case when question in ('phone_number', 'phone') then answer end) as phone_raw,
        max(case when question = 'email' then answer end) as email,
        max(case when question = 'city' then answer end) as city_raw,
        max(case when question in ('address', 'street_address') then answer end) as address,
        max(case when question = 'offer' then answer end) as offer
    from (
        select record_id, lower(field ->> '$.name') as question, (field -> '$.values') ->> '$[0]' as answer
        from raw.tiktok_leads, unnest(cast(payload -> '$.field_data' as json[])) as answers (field)
    )
    group by record_id
),

unioned as (
    select
        'shopify' as platform, platform_order_id, order_number, placed_at, updated_at, raw_status, cancel_reason,
        payment_method, phone_raw, email, customer_name, city_raw, address, total_amount, currency, item_count,
        source_file, line_number, loaded_at
    from shopify

    union all

    select
        'woocommerce', payload ->> '$.id', coalesce(payload ->> '$.number', payload ->> '$.id'),
        try_cast(payload ->> '$.date_created_gmt' as timestamp), try_cast(payload ->> '$.date_modified_gmt' as timestamp),
        lower(payload ->> '$.status'), null,
        case when lower(payload ->> '$.payment_method') in ('cod', '') then 'cod' else 'prepaid' end,
        coalesce(nullif(payload ->> '$.billing.phone', ''), nullif(payload ->> '$.shipping.phone', '')),
        nullif(payload ->> '$.billing.email', ''),
        nullif(trim(
            coalesce(payload ->> '$.billing.first_name', '') || ' ' || coalesce(payload ->> '$.billing.last_name', '')
        ), ''),
        coalesce(nullif(payload ->> '$.shipping.city', ''), payload ->> '$.billing.city'),
        coalesce(nullif(payload ->> '$.shipping.address_1', ''), payload ->> '$.billing.address_1'),
        cast(payload ->> '$.total' as decimal(12, 2)), payload ->> '$.currency',
        json_sum(payload -> '$.line_items', '$.quantity'),
        source_file, line_number, loaded_at
    from raw.woocommerce_orders

    union all

    select
        'youcan', payload ->> '$.id', coalesce(payload ->> '$.ref', payload ->> '$.id'),
        iso_utc(payload ->> '$.created_at'), iso_utc(payload ->> '$.updated_at'),
        lower(coalesce(payload ->> '$.status_object.slug', payload ->> '$.status')), null,
        case when lower(coalesce(payload ->> '$.payment.method', 'cod')) = 'cod' then 'cod' else 'prepaid' end,
        coalesce(payload ->> '$.customer.phone', payload ->> '$.shipping.address.phone'),
        nullif(payload ->> '$.customer.email', ''),
        coalesce(
            nullif(payload ->> '$.customer.full_name', ''),
            nullif(trim(
                coalesce(payload ->> '$.customer.first_name', '') || ' ' || coalesce(payload ->> '$.customer.last_name', '')
            ), '')
        ),
        coalesce(payload ->> '$.shipping.address.city', payload ->> '$.customer.city'),
        payload ->> '$.shipping.address.first_line',
        cast(payload ->> '$.total' as decimal(12, 2)), payload ->> '$.currency',
        json_sum(payload -> '$.variants', '$.quantity'),
        source_file, line_number, loaded_at
    from raw.youcan_orders

    union all

    select
        'lightfunnels', platform_order_id, order_number, placed_at, updated_at, raw_status, null, payment_method,
        phone_raw, email, customer_name, city_raw, address, total_amount, currency, item_count,
        source_file, line_number, loaded_at
    from lightfunnels

    union all

    select
        'prestashop', payload ->> '$.id', coalesce(nullif(payload ->> '$.reference', ''), payload ->> '$.id'),
        cast(timezone(getvariable('prestashop_tz'), try_cast(payload ->> '$.date_add' as timestamp)) at time zone 'UTC' as timestamp),
        cast(timezone(getvariable('prestashop_tz'), try_cast(payload ->> '$.date_upd' as timestamp)) at time zone 'UTC' as timestamp),
        payload ->> '$.current_state', null,
        case
            when lower(payload ->> '$.module') = 'ps_cashondelivery' then 'cod'
            when lower(payload ->> '$.payment') like '%cash on delivery%' then 'cod'
            else 'prepaid'
        end,
        coalesce(
            nullif(payload ->> '$.cod360_related.address_delivery.phone_mobile', ''),
            nullif(payload ->> '$.cod360_related.address_delivery.phone', '')
        ),
        nullif(payload ->> '$.cod360_related.customer.email', ''),
        coalesce(
            nullif(trim(
                coalesce(payload ->> '$.cod360_related.customer.firstname', '') || ' '
                || coalesce(payload ->> '$.cod360_related.customer.lastname', '')
            ), ''),
            nullif(trim(
                coalesce(payload ->> '$.cod360_related.address_delivery.firstname', '') || ' '
                || coalesce(payload ->> '$.cod360_related.address_delivery.lastname', '')
            ), '')
        ),
        nullif(payload ->> '$.cod360_related.address_delivery.city', ''),
        nullif(payload ->> '$.cod360_related.address_delivery.address1', ''),
        cast(payload ->> '$.total_paid' as decimal(12, 2)), getvariable('prestashop_currency'),
        json_sum(payload -> '$.associations.order_rows', '$.product_quantity'),
        source_file, line_number, loaded_at
    from raw.prestashop_orders
),

deduplicated as (
    select platform || ':' || platform_order_id as order_ref, *
    from unioned
    -- A snapshot delivered twice (webhook retry, overlapping pull) counts once.
    qualify row_number() over (
        partition by platform, platform_order_id, updated_at order by loaded_at, source_file, line_number
    ) = 1

    union all

    -- A TikTok lead is a COD order intent; leads are never re-emitted, one per lead id.
    select
        'tiktok:' || (leads.payload ->> '$.lead_id'), 'tiktok', leads.payload ->> '$.lead_id',
        leads.payload ->> '$.lead_id', placed.at, placed.at, 'lead', null, 'cod',
        answers.phone_raw, answers.email, answers.customer_name, answers.city_raw, answers.address,
        try_cast(regexp_extract(answers.offer, '([0-9]+(?:[.,][0-9]+)?)\s*(?:MAD|DH|dhs?)', 1) as decimal(12, 2)),
        'MAD', coalesce(try_cast(regexp_extract(answers.offer, '^\s*([0-9]+)\s*x', 1) as integer), 1),
        leads.source_file, leads.line_number, leads.loaded_at
    from raw.tiktok_leads as leads
    cross join lateral (
        select case
            when regexp_full_match(leads.payload ->> '$.create_time', '[0-9]+') then epoch_utc(leads.payload ->> '$.create_time')
            else iso_utc(leads.payload ->> '$.create_time')
        end as at
    ) as placed
    left join tiktok_answers as answers on leads.record_id = answers.record_id
    qualify row_number() over (
        partition by leads.payload ->> '$.lead_id' order by leads.loaded_at, leads.source_file, leads.line_number
    ) = 1
)

select
    deduplicated.*,
    coalesce(storefront_status_map.canonical_status, 'unknown') as storefront_status
from deduplicated
left join storefront_status_map
    on deduplicated.platform = storefront_status_map.platform
    and deduplicated.raw_status = storefront_status_map.raw_status;
