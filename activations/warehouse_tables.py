"""The warehouse tables activations read, and the ``activations`` schema they write.

Read: contracted dbt marts, named here by model and resolved through dbt's manifest
(:mod:`common.marts`), and the raw webhooks the outbox reconciles against. Written: the
``activations`` schema, created idempotently by :func:`ensure_activation_tables` (every
writer calls it; re-running it is a no-op).

Timestamps are naive UTC, the one time type of the warehouse.
"""

from __future__ import annotations

import duckdb

from common.marts import Mart, mart_exists

# --- read: contracted dbt marts, by model name ---------------------------------------------
# Each is resolved to its relation through dbt's manifest (``mart`` in the common package);
# the same names go to get_asset_key_for_model, so lineage follows the same constant.
SEGMENT_MEMBERSHIP_MODEL = "segment_membership"
CUSTOMER_360_MODEL = "customer_360"
ORDERS_MODEL = "orders"
# A view over the raw webhooks: replies and STOPs are visible as soon as they are ingested.
INBOUND_MESSAGES_MODEL = "whatsapp_inbound_messages"
SMS_REPLIES_MODEL = "sms_replies"
# Marketing stopped in WhatsApp itself (user_preferences webhooks); also a view.
USER_PREFERENCES_MODEL = "whatsapp_user_preferences"
# Every mart the activations read. On a Spark target they are copied into the DuckDB
# store before an activation runs (common.marts.copy_marts; docs/spark.md).
ACTIVATION_MARTS = (
    SEGMENT_MEMBERSHIP_MODEL,
    CUSTOMER_360_MODEL,
    ORDERS_MODEL,
    INBOUND_MESSAGES_MODEL,
    USER_PREFERENCES_MODEL,
    SMS_REPLIES_MODEL,
)
# Carrier choice (activations/carrier_choice.py): rates and fees per carrier × city, and
# the confirmed orders waiting for pickup.
CARRIER_RATES_MODEL = "carrier_city_delivery_rates"
ORDERS_TO_DISPATCH_MODEL = "orders_to_dispatch"

# --- read: not dbt models ----------------------------------------------------------------
# The raw webhooks, for the status evidence of activations.outbox (biz_opaque_callback_data
# is the outbox key); raw tables are written by the ingestion, not by dbt.
WHATSAPP_WEBHOOKS = "raw.whatsapp_webhooks"
INGESTED_FILES = "raw.ingested_files"
# Written by the lead-score asset (contract in the activations issue).
ORDER_SCORES = "ml.order_scores"
# Written after scoring by the carrier-choice asset (activations/carrier_choice.py).
CARRIER_OPTIONS = "ml.carrier_options"
CARRIER_RECOMMENDATIONS = "ml.carrier_recommendations"

# --- written -------------------------------------------------------------------------------
SCHEMA = "activations"
OUTBOX = f"{SCHEMA}.outbox"
SUPPRESSION = f"{SCHEMA}.suppression"
CAMPAIGN_RUNS = f"{SCHEMA}.campaign_runs"
DRY_RUN_SENDS = f"{SCHEMA}.dry_run_sends"
STOREFRONT_DECISIONS = f"{SCHEMA}.storefront_decisions"
AGENT_QUEUE = f"{SCHEMA}.agent_queue"
OTP_CODES = f"{SCHEMA}.otp_codes"
CAMPAIGN_RESULTS = f"{SCHEMA}.campaign_results"
TEMPLATE_FUNNEL = f"{SCHEMA}.template_funnel"

_DDL = f"""
create schema if not exists {SCHEMA};

-- One row per (campaign, customer, occasion): written and committed before any send.
create table if not exists {OUTBOX} (
    outbox_key varchar primary key,
    campaign_id varchar not null,
    customer_phone varchar not null,
    occasion varchar not null,
    order_ref varchar,
    variant varchar not null,
    channel varchar not null,
    message_kind varchar not null,
    category varchar not null,
    template_name varchar,
    language varchar,
    body_params varchar,
    button_payloads varchar,
    text_body varchar,
    status varchar not null,
    attempts integer not null default 0,
    message_id varchar,
    error_code varchar,
    error_message varchar,
    resolved_by varchar,
    created_at timestamp not null,
    expires_at timestamp not null,
    attempt_started_at timestamp,
    retry_not_before timestamp,
    sent_at timestamp,
    updated_at timestamp not null,
    run_id varchar,
    unique (campaign_id, customer_phone, occasion)
);

create table if not exists {SUPPRESSION} (
    customer_phone varchar not null,
    reason varchar not null,
    source_ref varchar not null,
    suppressed_at timestamp not null,
    recorded_at timestamp not null,
    primary key (customer_phone, reason, source_ref)
);

create table if not exists {CAMPAIGN_RUNS} (
    run_id varchar not null,
    campaign_id varchar not null,
    dry_run boolean not null,
    mode_reason varchar,
    started_at timestamp not null,
    finished_at timestamp,  -- null while running (or when the run was killed)
    audience integer not null,
    eligible integer not null,
    already_handled integer not null,
    holdout integer not null,
    enqueued integer not null,
    sent integer not null,
    failed integer not null,
    awaiting_retry integer not null,
    awaiting_reconciliation integer not null,
    suppressed_by_rule varchar not null,
    -- running (written when the run starts, updated per chunk) | finished | halted | failed
    status varchar not null default 'finished',
    updated_at timestamp,
    error varchar,
    primary key (run_id, campaign_id)
);

create table if not exists {DRY_RUN_SENDS} (
    run_id varchar not null,
    campaign_id varchar not null,
    outbox_key varchar not null,
    customer_phone_masked varchar not null,
    order_ref varchar,
    verdict varchar not null,
    reason varchar,
    variant varchar,
    template_name varchar,
    body_params varchar,
    planned_at timestamp not null
);

-- One row per order and decision version; the highest version is the current decision.
create table if not exists {STOREFRONT_DECISIONS} (
    order_ref varchar not null,
    decision_version integer not null,
    platform varchar not null,
    decision varchar not null,
    reason varchar not null,
    decided_by varchar not null,
    band varchar,
    score double,
    model_version varchar,
    scored_at timestamp,
    status varchar not null,
    attempts integer not null default 0,
    operations varchar,
    error_code varchar,
    error_message varchar,
    created_at timestamp not null,
    attempt_started_at timestamp,
    updated_at timestamp not null,
    run_id varchar,
    recommended_carrier varchar,
    carrier_reason varchar,
    primary key (order_ref, decision_version)
);

create table if not exists {AGENT_QUEUE} (
    order_ref varchar primary key,
    platform varchar,
    order_number varchar,
    customer_phone varchar,
    customer_name varchar,
    city varchar,
    total_amount double,
    placed_at timestamp,
    score double,
    rto_probability double,
    top_positive_reasons varchar,
    top_negative_reasons varchar,
    model_version varchar,
    decision_version integer,
    queued_at timestamp,
    whatsapp_messages_sent integer,
    whatsapp_last_status varchar,
    customer_reply varchar,
    sms_sent integer,
    previous_orders integer,
    previous_delivered integer,
    previous_returned integer,
    contact_history varchar,
    refreshed_at timestamp not null,
    recommended_carrier varchar,
    carrier_reason varchar
);

-- Only an HMAC of each delivery code is kept, never the code.
create table if not exists {OTP_CODES} (
    order_ref varchar not null,
    code_version integer not null,
    customer_phone varchar not null,
    code_hmac varchar not null,
    issued_at timestamp not null,
    expires_at timestamp not null,
    failed_attempts integer not null default 0,
    max_attempts integer not null,
    status varchar not null,
    used_at timestamp,
    outbox_key varchar,
    primary key (order_ref, code_version)
);

create table if not exists {CAMPAIGN_RESULTS} (
    campaign_id varchar not null,
    variant varchar not null,
    metric varchar not null,
    treated_members integer not null,
    treated_numerator integer not null,
    treated_denominator integer not null,
    treated_rate double,
    treated_ci_low double,
    treated_ci_high double,
    holdout_members integer not null,
    holdout_numerator integer not null,
    holdout_denominator integer not null,
    holdout_rate double,
    holdout_ci_low double,
    holdout_ci_high double,
    lift double,
    lift_ci_low double,
    lift_ci_high double,
    computed_at timestamp not null
);

create table if not exists {TEMPLATE_FUNNEL} (
    campaign_id varchar not null,
    variant varchar not null,
    template_name varchar,
    queued integer not null,
    sent integer not null,
    delivered integer not null,
    read integer not null,
    replied integer not null,
    failed integer not null,
    computed_at timestamp not null
);
"""


def ensure_activation_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the ``activations`` schema and its tables if they do not exist."""
    conn.execute(_DDL)
    # Warehouses created before run history was written at the start of a run.
    conn.execute(f"""
        alter table {CAMPAIGN_RUNS} add column if not exists status varchar default 'finished';
        alter table {CAMPAIGN_RUNS} add column if not exists updated_at timestamp;
        alter table {CAMPAIGN_RUNS} add column if not exists error varchar;
        alter table {CAMPAIGN_RUNS} alter column finished_at drop not null;
    """)
    # Warehouses created before the carrier recommendation was carried.
    for table in (AGENT_QUEUE, STOREFRONT_DECISIONS):
        conn.execute(f"""
            alter table {table} add column if not exists recommended_carrier varchar;
            alter table {table} add column if not exists carrier_reason varchar;
        """)


def relation_exists(conn: duckdb.DuckDBPyConnection, qualified_name: str | Mart) -> bool:
    """Whether a contracted mart, or ``schema.name``, exists as a table or a view."""
    if isinstance(qualified_name, Mart):
        return mart_exists(conn, qualified_name)
    schema, _, name = qualified_name.partition(".")
    row = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])
