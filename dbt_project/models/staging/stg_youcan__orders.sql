{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.ref',
    '$.created_at',
    '$.updated_at',
    '$.status_object.slug',
    '$.status',
    '$.payment.method',
    '$.customer.phone',
    '$.shipping.address.phone',
    '$.customer.email',
    '$.customer.full_name',
    '$.customer.first_name',
    '$.customer.last_name',
    '$.shipping.address.city',
    '$.customer.city',
    '$.shipping.address.first_line',
    '$.total',
    '$.currency'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'youcan_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

final_candidates as (
    select
        'youcan:' || ({{ json_at(paths, '$.id') }}) as order_ref,
        {{ json_at(paths, '$.id') }} as platform_order_id,
        'youcan' as platform,
        coalesce({{ json_at(paths, '$.ref') }}, {{ json_at(paths, '$.id') }}) as order_number,
        {{ iso_to_utc(json_at(paths, '$.created_at')) }} as placed_at,
        {{ iso_to_utc(json_at(paths, '$.updated_at')) }} as updated_at,
        lower(coalesce({{ json_at(paths, '$.status_object.slug') }}, {{ json_at(paths, '$.status') }}))
            as raw_status,
        -- The YouCan order entity carries no time per status: the first snapshot showing
        -- a status dates it (int_storefront_order_snapshots).
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        case
            when lower(coalesce({{ json_at(paths, '$.payment.method') }}, 'cod')) = 'cod' then 'cod' else
                'prepaid'
        end
            as payment_method,
        coalesce({{ json_at(paths, '$.customer.phone') }}, {{ json_at(paths, '$.shipping.address.phone') }})
            as phone_raw,
        nullif({{ json_at(paths, '$.customer.email') }}, '') as email,
        coalesce(
            nullif({{ json_at(paths, '$.customer.full_name') }}, ''),
            nullif(trim(
                coalesce({{ json_at(paths, '$.customer.first_name') }}, '') || ' '
                || coalesce({{ json_at(paths, '$.customer.last_name') }}, '')
            ), '')
        ) as customer_name,
        coalesce({{ json_at(paths, '$.shipping.address.city') }}, {{ json_at(paths, '$.customer.city') }})
            as city_raw,
        {{ json_at(paths, '$.shipping.address.first_line') }} as address,
        cast({{ json_at(paths, '$.total') }} as decimal(12, 2)) as total_amount,
        {{ json_at(paths, '$.currency') }} as currency,
        {{ json_array_sum('payload', '$.variants', 'quantity') }} as item_count,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref, updated_at',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'payment_method', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref', 'updated_at']) }}
