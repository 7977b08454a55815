{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.reference',
    '$.date_add',
    '$.date_upd',
    '$.current_state',
    '$.module',
    '$.payment',
    '$.cod360_related.address_delivery.phone_mobile',
    '$.cod360_related.address_delivery.phone',
    '$.cod360_related.customer.email',
    '$.cod360_related.customer.firstname',
    '$.cod360_related.customer.lastname',
    '$.cod360_related.address_delivery.firstname',
    '$.cod360_related.address_delivery.lastname',
    '$.cod360_related.address_delivery.city',
    '$.cod360_related.address_delivery.address1',
    '$.total_paid'
] %}
{%- set shop_tz = var('prestashop_shop_timezone', 'Africa/Casablanca') -%}

with

source as (
    {{ new_raw_rows(source('raw', 'prestashop_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

final_candidates as (
    select
        'prestashop:' || ({{ json_at(paths, '$.id') }}) as order_ref,
        {{ json_at(paths, '$.id') }} as platform_order_id,
        'prestashop' as platform,
        coalesce(nullif({{ json_at(paths, '$.reference') }}, ''), {{ json_at(paths, '$.id') }})
            as order_number,
        {{ local_to_utc(json_at(paths, '$.date_add'), shop_tz) }} as placed_at,
        {{ local_to_utc(json_at(paths, '$.date_upd'), shop_tz) }} as updated_at,
        {{ json_at(paths, '$.current_state') }} as raw_status,
        -- date_upd moves with any edit and the order carries no time per state (its
        -- history is another resource): the first snapshot showing a state dates it.
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        case
            when lower({{ json_at(paths, '$.module') }}) = 'ps_cashondelivery' then 'cod'
            when lower({{ json_at(paths, '$.payment') }}) like '%cash on delivery%' then 'cod'
            else 'prepaid'
        end as payment_method,
        coalesce(
            nullif({{ json_at(paths, '$.cod360_related.address_delivery.phone_mobile') }}, ''),
            nullif({{ json_at(paths, '$.cod360_related.address_delivery.phone') }}, '')
        ) as phone_raw,
        nullif({{ json_at(paths, '$.cod360_related.customer.email') }}, '') as email,
        coalesce(
            nullif(trim(
                coalesce({{ json_at(paths, '$.cod360_related.customer.firstname') }}, '') || ' '
                || coalesce({{ json_at(paths, '$.cod360_related.customer.lastname') }}, '')
            ), ''),
            nullif(trim(
                coalesce({{ json_at(paths, '$.cod360_related.address_delivery.firstname') }}, '') || ' '
                || coalesce({{ json_at(paths, '$.cod360_related.address_delivery.lastname') }}, '')
            ), '')
        ) as customer_name,
        nullif({{ json_at(paths, '$.cod360_related.address_delivery.city') }}, '') as city_raw,
        nullif({{ json_at(paths, '$.cod360_related.address_delivery.address1') }}, '') as address,
        cast({{ json_at(paths, '$.total_paid') }} as decimal(12, 2)) as total_amount,
        '{{ var("prestashop_shop_currency", "MAD") }}' as currency,
        {{ json_array_sum('payload', '$.associations.order_rows', 'product_quantity') }} as item_count,
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
