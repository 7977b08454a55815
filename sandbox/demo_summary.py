"""What `python -m sandbox demo` prints at the end: the state of the warehouse in a few tables."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from common.marts import mart, mart_exists
from common.warehouse import connect, table_exists
from connectors.ingestion import LANDING_SOURCES, table_counts


def _table(title: str, header: list[str], rows: list[tuple], widths: list[int]) -> None:
    print(f"\n{title}")
    print(
        "  "
        + "".join(
            f"{h:<{w}}" if i == 0 else f"{h:>{w}}"
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for row in rows:
        cells = []
        for i, (value, width) in enumerate(zip(row, widths, strict=True)):
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            cells.append(f"{text:<{width}}" if i == 0 else f"{text:>{width}}")
        print("  " + "".join(cells))


def _raw_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    rows = []
    for source in LANDING_SOURCES:
        if table_exists(conn, "raw", source.raw_table):
            c = table_counts(conn, source)
            ok = "yes" if c["read"] == c["loaded"] + c["quarantined"] else "NO"
            rows.append((source.name, c["read"], c["loaded"], c["quarantined"], ok))
    _table(
        "Raw inputs (all runs)",
        ["source", "read", "loaded", "quarantined", "reconciles"],
        rows,
        [26, 10, 10, 13, 12],
    )


def _grouped(conn, title: str, relation: str | None, column: str, label: str) -> None:
    if relation is None:
        return
    rows = conn.execute(
        f"select {column}, count(*) from {relation} group by 1 order by 2 desc, 1"
    ).fetchall()
    total = sum(count for _, count in rows) or 1
    _table(
        title, [label, "count", "share"], [(v, n, f"{n / total:.1%}") for v, n in rows], [28, 8, 8]
    )


def _built(conn, model: str) -> str | None:
    """The relation of a contracted mart (by model name, from the manifest), if it is built."""
    target = mart(model)
    return target.relation if mart_exists(conn, target) else None


def _orders(conn) -> None:
    orders = _built(conn, "orders")
    _grouped(conn, "Orders by canonical status", orders, "order_status", "status")
    if orders is not None:
        rate = conn.execute(
            f"""
            select count(*) filter (where outcome = 'returned') * 1.0
                   / nullif(count(*) filter (where outcome in ('delivered', 'returned')), 0)
            from {orders} where is_cod
            """
        ).fetchone()[0]
        if rate is not None:
            print(f"  RTO rate of resolved COD orders: {rate:.1%}")


def _segments(conn) -> None:
    membership = _built(conn, "segment_membership")
    if membership is None:
        return
    rows = conn.execute(
        f"select segment_name, count(*) from {membership} group by 1 order by 1"
    ).fetchall()
    _table("Segment members", ["segment", "customers"], rows, [28, 10])


def _lead_score(conn, model_store: Path) -> None:
    approved_file = model_store / "approved.json"
    if approved_file.exists():
        approved = json.loads(approved_file.read_text()).get("version")
        evaluation = model_store / "versions" / str(approved) / "evaluation.json"
        if approved and evaluation.exists():
            report = json.loads(evaluation.read_text())
            rows = [
                (m["contender"], m["auc"], m["brier"], m["log_loss"], m["profit_per_order"])
                for m in report["metrics"]
            ]
            window = report.get("window", {})
            _table(
                f"Lead score: approved {approved}, held-out window {window.get('start', '')[:10]}.."
                f"{window.get('end', '')[:10]} ({report.get('orders')} orders, RTO {report.get('rto_rate', 0):.1%})",
                ["contender", "AUC", "Brier", "log loss", "MAD/order"],
                rows,
                [28, 8, 8, 10, 11],
            )
    if table_exists(conn, "ml", "order_scores"):
        # ml.order_scores is written by the lead-score asset, not by dbt.
        _grouped(conn, "Open orders by lead-score band", "ml.order_scores", "band", "band")


def print_summary(warehouse_path: Path, model_store: Path | None = None) -> None:
    """Print rows loaded and quarantined per source and the size of the main models."""
    with connect(warehouse_path, read_only=True) as conn:
        _raw_inputs(conn)
        _orders(conn)
        customers = _built(conn, "customer_360")
        _grouped(conn, "Customers by lifecycle stage", customers, "lifecycle_stage", "stage")
        _grouped(conn, "Customers by RFM segment", customers, "rfm_segment_with_overlay", "segment")
        _segments(conn)
        _reply_channels(conn)
        if model_store is not None:
            _lead_score(conn, model_store)


def _reply_channels(conn) -> None:
    """SMS replies by what they meant and the decisions they moved; email events by type."""
    sms = _built(conn, "sms_replies")
    if sms is not None:
        rows = conn.execute(
            f"""
            select reply_intent, count(*), count(order_ref) from {sms}
            group by 1 order by 2 desc, 1
            """
        ).fetchall()
        _table("SMS replies by interpretation", ["reply", "replies", "tied to an order"],
               rows, [28, 10, 18])  # fmt: skip
        if table_exists(conn, "activations", "storefront_decisions"):
            moved = conn.execute(
                """
                select decision, count(*) from activations.storefront_decisions
                where decided_by = 'customer_reply' and reason like '%(sms)'
                group by 1 order by 1
                """
            ).fetchall()
            listed = ", ".join(f"{decision} {n}" for decision, n in moved) or "none"
            print(f"  storefront decisions moved by an SMS reply: {listed}")
    email = _built(conn, "email_events")
    if email is not None:
        rows = conn.execute(
            f"select event_type, count(*) from {email} group by 1 order by 2 desc, 1"
        ).fetchall()
        _table("Email events by type", ["event", "count"], rows, [28, 8])
