{#- One row per line of a carrier's COD remittance statement (docs/landing.md, remittance
    envelope): the cash collected on one parcel and the carrier's fees on it, with the
    statement's period, payout date and paid-out amount repeated on every line. -#}
{#- Every scalar path this model reads, extracted in one pass per record (macros/json.sql). -#}
{%- set paths = [
    '$.carrier',
    '$.statement_id',
    '$.tracking_number',
    '$.order_ref',
    '$.period_start',
    '$.period_end',
    '$.payout_date',
    '$.currency',
    '$.amount_collected',
    '$.fees',
    '$.paid_out_amount'
] %}
with

source as (
    {{ new_raw_rows(source('raw', 'carrier_remittances')) }}
),

extracted as (
    select
        *,
        {{ json_texts('payload', paths) }} as payload_texts
    from source
),

parsed as (
    select
        lower(trim({{ json_at(paths, '$.carrier') }})) as carrier,
        trim({{ json_at(paths, '$.statement_id') }}) as statement_id,
        nullif(trim({{ json_at(paths, '$.tracking_number') }}), '') as tracking_number,
        nullif(trim({{ json_at(paths, '$.order_ref') }}), '') as order_ref,
        cast({{ json_at(paths, '$.period_start') }} as date) as period_start,
        cast({{ json_at(paths, '$.period_end') }} as date) as period_end,
        cast({{ json_at(paths, '$.payout_date') }} as date) as payout_date,
        {{ json_at(paths, '$.currency') }} as currency,
        cast({{ json_at(paths, '$.amount_collected') }} as decimal(12, 2)) as amount_collected,
        cast({{ json_at(paths, '$.fees') }} as decimal(12, 2)) as fees,
        cast({{ json_at(paths, '$.paid_out_amount') }} as decimal(12, 2)) as paid_out_amount,
        record_id,
        source_file,
        line_number,
        loaded_at
    from extracted
),

final_candidates as (
    select
        md5(
            carrier || '|' || statement_id || '|' || coalesce(tracking_number, '') || '|'
            || coalesce(order_ref, '')
        ) as remittance_line_id,
        *
    from parsed
),

-- A statement sent again (a corrected export, a re-sent file): its latest line counts.
final as (
    {{ deduplicate_first(
        'final_candidates',
        partition_by='remittance_line_id',
        order_by='loaded_at desc, source_file desc, line_number desc',
        columns=[
            'remittance_line_id', 'carrier', 'statement_id', 'tracking_number', 'order_ref',
            'period_start', 'period_end', 'payout_date', 'currency', 'amount_collected', 'fees',
            'paid_out_amount', 'record_id', 'source_file', 'line_number', 'loaded_at'
        ]
    ) }}
)

{{ not_yet_staged('final', ['remittance_line_id']) }}
