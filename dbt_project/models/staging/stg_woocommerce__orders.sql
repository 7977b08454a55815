{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.id',
    '$.number',
    '$.date_created_gmt',
    '$.date_modified_gmt',
    '$.status',
    '$.date_completed_gmt',
    '$.payment_method',
    '$.billing.phone',
    '$.shipping.phone',
    '$.billing.email',
    '$.billing.first_name',
    '$.billing.last_name',
    '$.shipping.city',
    '$.billing.city',
    '$.shipping.address_1',
    '$.billing.address_1',
    '$.total',
    '$.currency'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'woocommerce_orders')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

meta_entries as (
    -- One row per order snapshot and meta_data entry (order attribution, WooCommerce ≥ 8.5).
    select
        source.record_id,
        {{ json_text('entry', '$.key') }} as meta_key,
        {{ json_text('entry', '$.value') }} as meta_value
    from source
    {{ json_array_rows('source.payload', '$.meta_data', 'entries', 'entry') }}
),

attribution as (
    select
        record_id,
        {%- for field in ['source', 'medium', 'campaign', 'content'] %}
            max(case when meta_key = '_wc_order_attribution_utm_{{ field }}' then meta_value end)
                as utm_{{ field }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from meta_entries
    group by record_id
),

final_candidates as (
    select
        'woocommerce:' || ({{ json_at(paths, '$.id') }}) as order_ref,
        {{ json_at(paths, '$.id') }} as platform_order_id,
        'woocommerce' as platform,
        coalesce({{ json_at(paths, '$.number') }}, {{ json_at(paths, '$.id') }}) as order_number,
        {{ naive_utc(json_at(paths, '$.date_created_gmt')) }} as placed_at,
        {{ naive_utc(json_at(paths, '$.date_modified_gmt')) }} as updated_at,
        lower({{ json_at(paths, '$.status') }}) as raw_status,
        -- WooCommerce's own completion time: a later edit moves date_modified, not this.
        {{ naive_utc(json_at(paths, '$.date_completed_gmt')) }} as closed_at,
        cast(null as timestamp) as cancelled_at,
        cast(null as {{ dbt.type_string() }}) as cancel_reason,
        case when lower({{ json_at(paths, '$.payment_method') }}) in ('cod', '') then 'cod' else 'prepaid' end
            as payment_method,
        coalesce(
            nullif({{ json_at(paths, '$.billing.phone') }}, ''),
            nullif({{ json_at(paths, '$.shipping.phone') }}, '')
        )
            as phone_raw,
        nullif({{ json_at(paths, '$.billing.email') }}, '') as email,
        nullif(trim(
            coalesce({{ json_at(paths, '$.billing.first_name') }}, '')
            || ' '
            || coalesce({{ json_at(paths, '$.billing.last_name') }}, '')
        ), '') as customer_name,
        coalesce(
            nullif({{ json_at(paths, '$.shipping.city') }}, ''), {{ json_at(paths, '$.billing.city') }}
        )
            as city_raw,
        coalesce(
            nullif({{ json_at(paths, '$.shipping.address_1') }}, ''),
            {{ json_at(paths, '$.billing.address_1') }}
        )
            as address,
        cast({{ json_at(paths, '$.total') }} as decimal(12, 2)) as total_amount,
        {{ json_at(paths, '$.currency') }} as currency,
        {{ json_array_sum('extracted.payload', '$.line_items', 'quantity') }} as item_count,
        attribution.utm_source,
        attribution.utm_medium,
        attribution.utm_campaign,
        attribution.utm_content,
        extracted.record_id,
        extracted.source_file,
        extracted.line_number,
        extracted.loaded_at
    from extracted
    left join attribution on extracted.record_id = attribution.record_id
),

final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='order_ref, updated_at',
        order_by='loaded_at, source_file, line_number',
        columns=['order_ref', 'platform_order_id', 'platform', 'order_number', 'placed_at', 'updated_at', 'raw_status', 'closed_at', 'cancelled_at', 'cancel_reason', 'payment_method', 'phone_raw', 'email', 'customer_name', 'city_raw', 'address', 'total_amount', 'currency', 'item_count', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'record_id', 'source_file', 'line_number', 'loaded_at']
    ) }}
)

{{ not_yet_staged('final', ['order_ref', 'updated_at']) }}
