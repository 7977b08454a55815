"""Storefront decisions from the lead-score bands, and the agent queue of review-band orders."""

from pathlib import Path

import dagster as dg

from activations.agent_queue import export_agent_queue_csv, refresh_agent_queue
from activations.campaign_planning import naive, utc_now
from activations.clients.resources import (
    ShopifyAdminResource,
    WooCommerceResource,
    YouCanResource,
    writeback_registry,
)
from activations.decisions import (
    decisions_by_band,
    propose_decisions,
    push_decisions,
    record_decisions,
)
from activations.warehouse_tables import DRY_RUN_SENDS, ORDERS_MODEL, ensure_activation_tables
from common.marts import mart
from common.privacy import mask_phone
from common.settings import load_settings
from orchestration.defs.activations.common import (
    ACTIVATIONS_GROUP,
    INBOUND_KEY,
    ORDER_SCORES_KEY,
    ORDERS_KEY,
    ActivationConfig,
    activation_key,
    marts_here,
)
from orchestration.defs.activations.gates import enforce_quality_gate
from orchestration.defs.activations.resources import ActivationSettings, storefront_resources
from orchestration.resources import WarehouseResource


def _write_dry_run(conn, run_id: str, proposals, now) -> None:
    conn.execute(
        f"delete from {DRY_RUN_SENDS} where run_id = ? and campaign_id = 'storefront_decisions'",
        [run_id],
    )
    if not proposals:
        return
    orders = mart(ORDERS_MODEL)
    phones = dict(conn.execute(f"select order_ref, customer_phone from {orders}").fetchall())
    conn.executemany(
        f"insert into {DRY_RUN_SENDS} values (?, 'storefront_decisions', ?, ?, ?, ?, ?, null, "
        "null, null, ?)",
        [
            (run_id, p.order_ref, mask_phone(phones.get(p.order_ref)), p.order_ref, p.decision,
             p.reason, naive(now))
            for p in proposals
        ],
    )  # fmt: skip


@dg.asset(
    key=activation_key("storefront_decisions"),
    group_name=ACTIVATIONS_GROUP,
    deps=[ORDER_SCORES_KEY, ORDERS_KEY, INBOUND_KEY, activation_key("order_confirmation")],
    kinds={"shopify", "woocommerce", "python"},
    tags={"cod360/activation": "writeback"},
)
def storefront_decisions(
    context: dg.AssetExecutionContext,
    config: ActivationConfig,
    warehouse: WarehouseResource,
    shopify: ShopifyAdminResource,
    woocommerce: WooCommerceResource,
    youcan: YouCanResource,
) -> dg.MaterializeResult:
    """Each scored, undispatched order gets a decision (confirm / review / hold / cancel) from
    its band and the customer's reply, recorded as a new version in
    `activations.storefront_decisions` before it is pushed to the order's storefront. A held
    order is never confirmed automatically."""
    enforce_quality_gate(context)
    marts_here(context, warehouse)
    now = utc_now()
    configured = storefront_resources(shopify, woocommerce, youcan)
    dry_run = config.dry_run or not configured
    with warehouse.connect() as conn:
        ensure_activation_tables(conn)
        proposals = propose_decisions(conn)
        proposed = {
            d: sum(1 for p in proposals if p.decision == d)
            for d in ("confirm", "review", "hold", "cancel")
        }
        if dry_run:
            _write_dry_run(conn, context.run.run_id, proposals, now)
            return dg.MaterializeResult(
                metadata={
                    "mode": "dry_run",
                    "mode_reason": "dry run requested"
                    if config.dry_run
                    else "no storefront configured",
                    "proposed": dg.MetadataValue.json(proposed),
                }
            )
        record_decisions(conn, proposals, naive(now), context.run.run_id)
    registry = writeback_registry(*configured)
    try:
        with warehouse.connect() as conn:
            pushed = push_decisions(conn, registry, naive(now), context.run.run_id)
            by_band = decisions_by_band(conn)
    finally:
        registry.close()
    context.log.info(f"storefront decisions: proposed {proposed}, pushed {dict(pushed)}")
    return dg.MaterializeResult(
        metadata={
            "mode": "live",
            "proposed": dg.MetadataValue.json(proposed),
            "pushed": dg.MetadataValue.json(dict(pushed)),
            "current_decisions_by_band": dg.MetadataValue.json(by_band),
        }
    )


@dg.asset(
    key=activation_key("agent_queue"),
    group_name=ACTIVATIONS_GROUP,
    deps=[activation_key("storefront_decisions"), ORDER_SCORES_KEY, ORDERS_KEY, INBOUND_KEY],
    kinds={"duckdb", "csv"},
    tags={"cod360/activation": "agent_queue"},
)
def agent_queue(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    activation_settings: ActivationSettings,
) -> dg.MaterializeResult:
    """Review-band orders for the operations team (`activations.agent_queue`, and a CSV in the
    exports folder): score, top reasons, customer history and every contact made."""
    exports = Path(activation_settings.exports_dir or load_settings().data_dir / "exports")
    with warehouse.connect() as conn:
        queued = refresh_agent_queue(conn, naive(utc_now()))
        path = export_agent_queue_csv(conn, exports / "agent_queue.csv")
    context.log.info(f"agent queue: {queued} order(s) to review")
    return dg.MaterializeResult(
        metadata={"orders_to_review": queued, "csv": dg.MetadataValue.path(str(path))}
    )
