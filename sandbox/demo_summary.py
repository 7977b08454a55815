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


def _ads(conn) -> None:
    """Issue 15 part 2: the top and bottom three ads by profit per lead, and how the ranking
    compares with the simulator's truth (each creative's effect on the customer's intent)."""
    from ml.ad_performance import ranking_lines
    from sandbox.sample_store import attribution
    from sandbox.sample_store import world as w

    ads_relation = _built(conn, "ad_performance")
    if ads_relation is None:
        return
    ads = conn.execute(f"select * from {ads_relation}").df()
    print("\nAds by profit per lead (ad_performance; RTO with its 95 % interval)")
    for line in ranking_lines(ads):
        print(f"  {line}")
    if not ads["orders_scored_at_placement"].any() and table_exists(
        conn, "ml", "order_placement_scores"
    ):
        # Written after dbt in the same run (orchestration/defs/ads): in the mart next build.
        (scored,) = conn.execute("select count(*) from ml.order_placement_scores").fetchone()
        print(
            f"  lead score at placement: {scored} orders scored after this dbt build; "
            "ad_performance averages them from its next build"
        )
    # The simulator's truth: ad id -> creative -> logit effect on intent (world.AD_CREATIVES).
    effect = {}
    for index, (creative, _share, logit) in enumerate(w.AD_CREATIVES):
        effect[attribution.tiktok_ad_id(index)] = logit
        effect[attribution.placement(creative, index).ad_id] = logit
    ads["true_effect"] = ads["ad_id"].map(effect)
    notes = []
    for channel, group in ads[ads["true_effect"].notna()].groupby("ad_channel"):
        rho = group["profit_per_lead"].corr(group["true_effect"], method="spearman")
        notes.append(f"{channel} {rho:+.2f} over {len(group)} ads")
    if notes:
        print(
            "  vs the simulator's truth (creative effect on intent), Spearman rank correlation "
            "of profit per lead within each channel: " + "; ".join(notes)
        )


def _carrier_choice(conn) -> None:
    """The share of open orders whose recommended carrier is not the usual one, and the gain."""
    if not (
        table_exists(conn, "ml", "carrier_recommendations")
        and table_exists(conn, "ml", "carrier_options")
    ):
        return
    # Written after scoring by the carrier-choice asset (activations/carrier_choice.py).
    orders, vs_usual, gain_usual, assigned, vs_assigned, gain_assigned = conn.execute(
        """
        with usual as (
            select order_ref, carrier as usual_carrier, expected_profit as usual_profit
            from ml.carrier_options where is_usual_carrier
        )
        select count(*),
            count(*) filter (where u.usual_carrier is not null
                and r.recommended_carrier <> u.usual_carrier),
            coalesce(sum(r.recommended_expected_profit - u.usual_profit), 0),
            count(*) filter (where r.baseline_kind = 'assigned'),
            count(*) filter (where r.baseline_kind = 'assigned'
                and r.recommended_carrier <> r.baseline_carrier),
            coalesce(sum(r.expected_gain) filter (where r.baseline_kind = 'assigned'), 0)
        from ml.carrier_recommendations r left join usual u using (order_ref)
        """
    ).fetchone()
    print(f"\nCarrier choice per order ({orders} open orders scored; ml.carrier_recommendations)")
    if not orders:
        return
    print(
        f"  recommended carrier differs from the city's usual one: {vs_usual / orders:.1%} "
        f"({vs_usual} orders), expected gain {gain_usual:+.0f} MAD "
        f"({gain_usual / orders:+.2f} MAD per open order)"
    )
    if assigned:
        print(
            f"  …from the carrier already assigned: {vs_assigned / assigned:.1%} of the {assigned} "
            f"assigned orders, expected gain {gain_assigned:+.0f} MAD"
        )


def _cash(conn) -> None:
    """COD cash reconciliation: what the carriers paid out, what they still hold, and the
    discrepancies the marts found (the sample store puts a few in on purpose)."""
    kpis, statements = _built(conn, "cash_kpis"), _built(conn, "cod_remittance_statements")
    if kpis is None or statements is None:
        return
    row = conn.execute(
        f"""
        select k.statements, s.lines, k.remitted_value, k.fees, k.median_days_to_cash,
               k.cash_in_transit_orders, k.cash_in_transit_value, k.overdue_orders,
               k.unremitted_value, k.mismatch_orders, k.mismatch_amount, k.late_remittances,
               k.unbalanced_statements, k.as_of_date
        from {kpis} as k
        cross join (select coalesce(sum(lines), 0) as lines from {statements}) as s
        where k.dimension = 'all'
        """
    ).fetchone()
    if row is None:
        return
    (n_statements, lines, remitted, fees, median_days, transit_n, transit_value, overdue_n,
     unremitted, mismatch_n, mismatch_amount, late_n, unbalanced_n, as_of) = row  # fmt: skip
    days = "—" if median_days is None else f"{median_days:.0f} days"
    print(f"\nCOD cash reconciliation (carrier remittance statements, as of {as_of})")
    print(f"  statements: {n_statements}, lines: {lines}")
    print(f"  remitted value: {remitted:,.2f} MAD collected, {fees:,.2f} MAD fees")
    print(f"  median days from delivery to cash: {days}")
    print(f"  cash in transit: {transit_n} orders, {transit_value:,.2f} MAD")
    print(f"  overdue unremitted: {overdue_n} orders, {unremitted:,.2f} MAD")
    print(
        f"  mismatches found: {mismatch_n} amount mismatches ({mismatch_amount:,.2f} MAD), "
        f"{late_n} late remittances, {unbalanced_n} statement(s) not summing to their payout"
    )
    per_carrier = conn.execute(
        f"""
        select dimension_value, statements, remitted_orders, cash_in_transit_value,
               unremitted_value, median_days_to_cash
        from {kpis} where dimension = 'carrier' order by dimension_value
        """
    ).fetchall()
    _table(
        "Cash by carrier",
        ["carrier", "statements", "remitted", "in transit MAD", "overdue MAD", "median days"],
        [
            (c, n, r, f"{t:,.2f}", f"{u:,.2f}", "—" if d is None else f"{d:.0f}")
            for c, n, r, t, u, d in per_carrier
        ],
        [16, 12, 10, 16, 13, 13],
    )


def print_summary(warehouse_path: Path, model_store: Path | None = None) -> None:
    """Print rows loaded and quarantined per source and the size of the main models."""
    with connect(warehouse_path, read_only=True) as conn:
        _raw_inputs(conn)
        _orders(conn)
        customers = _built(conn, "customer_360")
        _grouped(conn, "Customers by lifecycle stage", customers, "lifecycle_stage", "stage")
        _grouped(conn, "Customers by RFM segment", customers, "rfm_segment_with_overlay", "segment")
        _segments(conn)
        _ads(conn)
        _cash(conn)
        _reply_channels(conn)
        if model_store is not None:
            _lead_score(conn, model_store)
        _carrier_choice(conn)


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
        (ambiguous,) = conn.execute(
            f"select count(*) from {sms} where attributed_by = 'ambiguous'"
        ).fetchone()
        print(
            f"  replies that could answer two or more open orders (tied to none; each "
            f"order to the agent queue): {ambiguous}"
        )
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
