{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$._id',
    '$.name',
    '$.created_at',
    '$.updated_at',
    '$.cancelled_at',
    '$.financial_status',
    '$.fulfillment_status',
    '$.shipping_address.phone',
    '$.phone',
    '$.customer.phone',
    '$.email',
    '$.customer.email',
    '$.shipping_address.first_name',
    '$.shipping_address.last_name',
    '$.customer.full_name',
    '$.shipping_address.city',
    '$.shipping_address.line1',
    '$.total',
    '$.currency'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'lightfunnels_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        'lightfunnels:' || ({{ json_at(paths, '$._id') }}) as order_ref,
        {{ json_at(paths, '$._id') }} as platform_order_id,
        coalesce({{ json_at(paths, '$.name') }}, {{ json_at(paths, '$._id') }}) as order_number,
        {{ naive_or_iso_to_utc(json_at(paths, '$.created_at')) }} as placed_at,
        {{ naive_or_iso_to_utc(json_at(paths, '$.updated_at')) }} as updated_at,
        nullif({{ json_at(paths, '$.cancelled_at') }}, '') as cancelled_at_raw,
        lower(coalesce(nullif({{ json_at(paths, '$.financial_status') }}, ''), 'pending')) as financial_status,
        lower(coalesce(nullif({{ json_at(paths, '$.fulfillment_status') }}, ''), 'unfulfilled'))
            as fulfillment_status,
        coalesce(
            nullif({{ json_at(paths, '$.shipping_address.phone') }}, ''),
            nullif({{ json_at(paths, '$.phone') }}, ''),
            nullif({{ json_at(paths, '$.customer.phone') }}, '')
        ) as phone_raw,
        coalesce(
            nullif({{ json_at(paths, '$.email') }}, ''),
            nullif({{ json_at(paths, '$.customer.email') }}, '')
        )
            as email,
        coalesce(
            nullif(trim(
                coalesce({{ json_at(paths, '$.shipping_address.first_name') }}, '') || ' '
                || coalesce({{ json_at(paths, '$.shipping_address.last_name') }}, '')
            ), ''),
            nullif({{ json_at(paths, '$.customer.full_name') }}, '')
        ) as customer_name,
        nullif({{ json_at(paths, '$.shipping_address.city') }}, '') as city_raw,
        nullif({{ json_at(paths, '$.shipping_address.line1') }}, '') as address,
        cast({{ json_at(paths, '$.total') }} as decimal(12, 2)) as total_amount,
        {{ json_at(paths, '$.currency') }} as currency,
        coalesce({{ json_array_length('payload', '$.items') }}, 0) as item_count,
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
        'lightfunnels' as platform,
        order_number,
        placed_at,
        updated_at,
        -- `<financial_status>/<fulfillment_status>`, with `cancelled` in place of the
        -- financial status once `cancelled_at` is set (`cancelled/fulfilled` = an RTO).
        (
            case when cancelled_at_raw is not null then 'cancelled' else financial_status end
            || '/' || fulfillment_status
        ) as raw_status,
        -- LightFunnels' own cancellation time; no delivery time in the Order node.
        cast(null as timestamp) as closed_at,
        {{ naive_or_iso_to_utc('cancelled_at_raw') }} as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        -- Whether this snapshot shows the order paid while still unfulfilled (and not
        -- cancelled): the evidence of an online payment, read across the order's snapshots
        -- by stg_lightfunnels__orders.
        coalesce(
            financial_status = 'paid' and fulfillment_status = 'unfulfilled' and cancelled_at_raw is null, false
        ) as paid_while_unfulfilled,
        phone_raw,
        email,
        customer_name,
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
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref, updated_at',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'paid_while_unfulfilled', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref', 'updated_at']) }}
