{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.name',
    '$.createdAt',
    '$.updatedAt',
    '$.cancelledAt',
    '$.closedAt',
    '$.cancelReason',
    '$.displayFinancialStatus',
    '$.displayFulfillmentStatus',
    '$.shippingAddress.phone',
    '$.phone',
    '$.customer.phone',
    '$.email',
    '$.customer.email',
    '$.shippingAddress.firstName',
    '$.customer.firstName',
    '$.shippingAddress.lastName',
    '$.customer.lastName',
    '$.shippingAddress.city',
    '$.shippingAddress.address1',
    '$.totalPriceSet.shopMoney.amount',
    '$.totalPriceSet.shopMoney.currencyCode',
    '$.customerJourneySummary.lastVisit.utmParameters.source',
    '$.customerJourneySummary.firstVisit.utmParameters.source',
    '$.customerJourneySummary.lastVisit.utmParameters.medium',
    '$.customerJourneySummary.firstVisit.utmParameters.medium',
    '$.customerJourneySummary.lastVisit.utmParameters.campaign',
    '$.customerJourneySummary.firstVisit.utmParameters.campaign',
    '$.customerJourneySummary.lastVisit.utmParameters.content',
    '$.customerJourneySummary.firstVisit.utmParameters.content'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'shopify_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        'shopify:' || regexp_extract({{ json_at(paths, '$.id') }}, '([0-9]+)$', 1) as order_ref,
        regexp_extract({{ json_at(paths, '$.id') }}, '([0-9]+)$', 1) as platform_order_id,
        {{ json_at(paths, '$.name') }} as order_number,
        {{ iso_to_utc(json_at(paths, '$.createdAt')) }} as placed_at,
        {{ iso_to_utc(json_at(paths, '$.updatedAt')) }} as updated_at,
        {{ iso_to_utc(json_at(paths, '$.cancelledAt')) }} as cancelled_at,
        {{ iso_to_utc(json_at(paths, '$.closedAt')) }} as closed_at,
        {{ json_at(paths, '$.cancelReason') }} as cancel_reason,
        {{ json_at(paths, '$.displayFinancialStatus') }} as financial_status,
        {{ json_at(paths, '$.displayFulfillmentStatus') }} as fulfillment_status,
        {%- for tag in ['cod-returned', 'cod-delivered', 'cod-cancelled', 'cod-unreachable', 'cod-confirmed'] %}
            {{ json_array_contains('payload', '$.tags', tag) }} as has_tag_{{ tag | replace('-', '_') }},
        {%- endfor %}
        {{ json_array_contains('payload', '$.paymentGatewayNames', 'Cash on Delivery (COD)') }} as has_cod_gateway,
        coalesce({{ json_array_length('payload', '$.paymentGatewayNames') }}, 0) as payment_gateway_count,
        coalesce(
            {{ json_at(paths, '$.shippingAddress.phone') }},
            {{ json_at(paths, '$.phone') }},
            {{ json_at(paths, '$.customer.phone') }}
        ) as phone_raw,
        coalesce({{ json_at(paths, '$.email') }}, {{ json_at(paths, '$.customer.email') }}) as email,
        trim(
            coalesce(
                {{ json_at(paths, '$.shippingAddress.firstName') }},
                {{ json_at(paths, '$.customer.firstName') }},
                ''
            )
            || ' '
            || coalesce(
                {{ json_at(paths, '$.shippingAddress.lastName') }},
                {{ json_at(paths, '$.customer.lastName') }},
                ''
            )
        ) as customer_name,
        {{ json_at(paths, '$.shippingAddress.city') }} as city_raw,
        {{ json_at(paths, '$.shippingAddress.address1') }} as address,
        cast({{ json_at(paths, '$.totalPriceSet.shopMoney.amount') }} as decimal(12, 2)) as total_amount,
        {{ json_at(paths, '$.totalPriceSet.shopMoney.currencyCode') }} as currency,
        {{ json_array_sum('payload', '$.lineItems.nodes', 'quantity') }} as item_count,
        -- The ad that brought the order: the UTM of the journey's last visit, else its first.
        coalesce(
            {{ json_at(paths, '$.customerJourneySummary.lastVisit.utmParameters.source') }},
            {{ json_at(paths, '$.customerJourneySummary.firstVisit.utmParameters.source') }}
        ) as utm_source,
        coalesce(
            {{ json_at(paths, '$.customerJourneySummary.lastVisit.utmParameters.medium') }},
            {{ json_at(paths, '$.customerJourneySummary.firstVisit.utmParameters.medium') }}
        ) as utm_medium,
        coalesce(
            {{ json_at(paths, '$.customerJourneySummary.lastVisit.utmParameters.campaign') }},
            {{ json_at(paths, '$.customerJourneySummary.firstVisit.utmParameters.campaign') }}
        ) as utm_campaign,
        coalesce(
            {{ json_at(paths, '$.customerJourneySummary.lastVisit.utmParameters.content') }},
            {{ json_at(paths, '$.customerJourneySummary.firstVisit.utmParameters.content') }}
        ) as utm_content,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final_candidates as (
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
            when has_tag_cod_returned then 'tag:cod-returned'
            when has_tag_cod_delivered then 'tag:cod-delivered'
            when cancelled_at is not null then 'cancelled'
            when has_tag_cod_cancelled then 'tag:cod-cancelled'
            when has_tag_cod_unreachable then 'tag:cod-unreachable'
            when has_tag_cod_confirmed then 'tag:cod-confirmed'
            else 'fulfillment:' || lower(coalesce(fulfillment_status, 'unfulfilled'))
        end as raw_status,
        -- When Shopify closed / cancelled the order: the time the status was reached,
        -- which a later edit (a note, a tag) does not move.
        closed_at,
        cancelled_at,
        cancel_reason,
        case
            when has_cod_gateway then 'cod'
            when payment_gateway_count = 0 then 'cod'
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
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        record_id,
        source_file,
        line_number,
        loaded_at
    from parsed
),

final as (
-- A snapshot delivered twice (webhook retry, overlapping pull) counts once.
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref, updated_at',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'payment_method', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref', 'updated_at']) }}
