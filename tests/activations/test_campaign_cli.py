"""`cod360 campaign`: list and preview on the e2e sample store, and the live-run guard."""

from __future__ import annotations

from datetime import datetime

import duckdb

from activations.campaign_config import load_campaign_files
from activations.campaign_preview import preview_campaign
from common.marts import mart
from common.settings import DBT_PROJECT_DIR
from common.warehouse import connect
from orchestration.cli import main

BUSINESS_HOURS = datetime.fromisoformat("2026-06-02T11:00+01:00")


def _campaign(campaign_id: str):
    loaded = load_campaign_files(segments_dir=DBT_PROJECT_DIR / "segments")
    return next(c for c in loaded.campaigns if c.id == campaign_id)


def _activation_tables(warehouse) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'activations'"
            ).fetchall()
        ]


def test_list_names_every_campaign_and_whether_it_is_on(capsys):
    assert main(["campaign", "list"]) == 0
    out = capsys.readouterr().out
    for campaign in load_campaign_files().campaigns:
        assert campaign.id in out
    assert "campaigns on" in out


def test_preview_accounts_for_every_member_and_writes_nothing(built_store):
    campaign = _campaign("lapsed_winback")
    before = _activation_tables(built_store.warehouse)
    preview = preview_campaign(lambda: connect(built_store.warehouse), campaign, BUSINESS_HOURS)
    assert _activation_tables(built_store.warehouse) == before  # rolled back, DDL included

    with duckdb.connect(str(built_store.warehouse), read_only=True) as conn:
        (members,) = conn.execute(
            f"select count(distinct customer_phone) from {mart('segment_membership')} "
            "where segment_name = ?",
            [campaign.segment],
        ).fetchone()
    assert preview.audience == members > 0
    accounted = (
        preview.already_handled
        + preview.would_send
        + preview.holdout
        + sum(preview.held_back.values())
    )
    assert accounted == preview.audience
    assert sum(preview.by_variant.values()) == preview.would_send
    sent_rows = [row for row in preview.samples if row["verdict"] == "send"]
    assert sent_rows, "business hours: some members would be messaged"
    for row in sent_rows:
        assert row["template_name"] and row["body_params"]  # variables rendered
        assert "****" in row["customer_phone_masked"]


def test_preview_at_night_defers_for_quiet_hours(built_store):
    night = datetime.fromisoformat("2026-06-02T02:00+01:00")
    preview = preview_campaign(
        lambda: connect(built_store.warehouse), _campaign("lapsed_winback"), night
    )
    assert preview.would_send == 0
    assert preview.held_back.get("defer:quiet_hours", 0) > 0


def test_a_live_run_needs_yes(capsys):
    assert main(["campaign", "run", "vip_offer"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["campaign", "preview", "no_such_campaign"]) == 2
    assert "no campaign 'no_such_campaign'" in capsys.readouterr().err
