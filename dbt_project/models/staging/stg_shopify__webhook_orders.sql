{#- Shopify order webhooks carry the REST Order resource, not the Admin GraphQL node of
    the pulls: this maps it to the columns of stg_shopify__orders (same order_ref, same
    raw_status words), so that int_storefront_order_snapshots merges both into one
    history per order. Portable: JSON through the project's macros, no engine syntax. -#}
{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.name',
    '$.created_at',
    '$.updated_at',
    '$.cancelled_at',
    '$.closed_at',
    '$.cancel_reason',
    '$.fulfillment_status',
    '$.tags',
    '$.payment_gateway_names',
    '$.shipping_address.phone',
    '$.phone',
    '$.customer.phone',
    '$.email',
    '$.customer.email',
    '$.shipping_address.first_name',
    '$.customer.first_name',
    '$.shipping_address.last_name',
    '$.customer.last_name',
    '$.shipping_address.city',
    '$.shipping_address.address1',
    '$.total_price',
    '$.currency'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'shopify_webhook_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        {{ json_at(paths, '$.id') }} as platform_order_id,
        {{ json_at(paths, '$.name') }} as order_number,
        {{ iso_to_utc(json_at(paths, '$.created_at')) }} as placed_at,
        {{ iso_to_utc(json_at(paths, '$.updated_at')) }} as updated_at,
        {{ iso_to_utc(json_at(paths, '$.cancelled_at')) }} as cancelled_at,
        {{ iso_to_utc(json_at(paths, '$.closed_at')) }} as closed_at,
        -- REST writes the enum in lower case (`customer`), GraphQL in upper (`CUSTOMER`).
        upper({{ json_at(paths, '$.cancel_reason') }}) as cancel_reason,
        -- REST: null (unfulfilled), `partial` or `fulfilled`; GraphQL's words below.
        case lower(coalesce({{ json_at(paths, '$.fulfillment_status') }}, 'unfulfilled'))
            when 'partial' then 'partially_fulfilled'
            else lower(coalesce({{ json_at(paths, '$.fulfillment_status') }}, 'unfulfilled'))
        end as fulfillment_status,
        {{ json_at(paths, '$.tags') }} as tags,
        coalesce({{ json_at(paths, '$.payment_gateway_names') }}, '[]') as payment_gateways,
        coalesce(
            {{ json_at(paths, '$.shipping_address.phone') }},
            {{ json_at(paths, '$.phone') }},
            {{ json_at(paths, '$.customer.phone') }}
        ) as phone_raw,
        coalesce({{ json_at(paths, '$.email') }}, {{ json_at(paths, '$.customer.email') }}) as email,
        trim(
            coalesce(
                {{ json_at(paths, '$.shipping_address.first_name') }},
                {{ json_at(paths, '$.customer.first_name') }},
                ''
            )
            || ' '
            || coalesce(
                {{ json_at(paths, '$.shipping_address.last_name') }},
                {{ json_at(paths, '$.customer.last_name') }},
                ''
            )
        ) as customer_name,
        {{ json_at(paths, '$.shipping_address.city') }} as city_raw,
        {{ json_at(paths, '$.shipping_address.address1') }} as address,
        cast({{ json_at(paths, '$.total_price') }} as decimal(12, 2)) as total_amount,
        {{ json_at(paths, '$.currency') }} as currency,
        {{ json_array_sum('payload', '$.line_items', 'quantity') }} as item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

mapped as (
    select
        {{ dbt.concat(["'shopify:'", 'platform_order_id']) }} as order_ref,
        platform_order_id,
        'shopify' as platform,
        order_number,
        placed_at,
        updated_at,
        -- The same precedence as stg_shopify__orders (tags accumulate; furthest wins).
        case
            when {{ tag_listed('tags', 'cod-returned') }} then 'tag:cod-returned'
            when {{ tag_listed('tags', 'cod-delivered') }} then 'tag:cod-delivered'
            when cancelled_at is not null then 'cancelled'
            when {{ tag_listed('tags', 'cod-cancelled') }} then 'tag:cod-cancelled'
            when {{ tag_listed('tags', 'cod-unreachable') }} then 'tag:cod-unreachable'
            when {{ tag_listed('tags', 'cod-confirmed') }} then 'tag:cod-confirmed'
            else {{ dbt.concat(["'fulfillment:'", 'fulfillment_status']) }}
        end as raw_status,
        closed_at,
        cancelled_at,
        cancel_reason,
        case
            when payment_gateways like '%"Cash on Delivery (COD)"%' then 'cod'
            when replace(payment_gateways, ' ', '') = '[]' then 'cod'
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
        loaded_at,
        -- A body delivered twice (Shopify retries) counts once.
        row_number() over (
            partition by platform_order_id, updated_at order by loaded_at, source_file, line_number
        ) as delivery_rank
    from parsed
),

final as (
    select
        order_ref, platform_order_id, platform, order_number, placed_at, updated_at, raw_status,
        closed_at, cancelled_at, cancel_reason, payment_method, phone_raw, email, customer_name,
        city_raw, address, total_amount, currency, item_count, record_id, source_file, line_number,
        loaded_at
    from mapped
    where delivery_rank = 1
)

{{ not_yet_staged('final', ['platform_order_id', 'updated_at']) }}
