"""The Dagster side: campaign files → assets and schedules, the quality gate (same run and
from the instance), dry runs that call nobody, and no secret or phone number in any log or
event."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import pytest
from activation_helpers import WHATSAPP_TOKEN
from outbox_harness import CAMPAIGN_YAML, PNID, TEMPLATES, build_world

from activations.campaign_config import CAMPAIGNS_DIR, CampaignFileError, load_campaigns
from activations.clients.resources import WhatsAppCloudResource
from common.settings import DBT_PROJECT_DIR
from common.warehouse import connect
from orchestration.defs.activations.campaigns import build_campaign_asset, campaign_definitions
from orchestration.defs.activations.common import SEGMENT_KEYS
from orchestration.resources import WarehouseResource
from sandbox.contract_servers import WhatsAppContractServer

SPEC_CAMPAIGNS = {
    "pre_delivery_confirmation": "pre_delivery_new_cod",
    "vip_offer": "cod_vip_last_30_days",
    "lapsed_winback": "lapsed_high_rfm",
    "out_for_delivery_notice": "out_for_delivery_today",
    "post_delivery_feedback": "delivered_last_3_days",
    "high_risk_address_confirmation": "high_risk_rto_history",
}


def test_the_shipped_campaigns_are_valid_and_target_the_shipped_segments():
    campaigns = load_campaigns(CAMPAIGNS_DIR, segments_dir=DBT_PROJECT_DIR / "segments")
    assert {c.id: c.segment for c in campaigns} == SPEC_CAMPAIGNS
    vip = next(c for c in campaigns if c.id == "vip_offer")
    assert set(vip.variant_templates()) == {"A", "B"} and vip.holdout_share == 0.1
    assert all(c.schedule.timezone == "Africa/Casablanca" for c in campaigns)


def test_a_bad_campaign_file_is_refused_naming_the_file_and_the_field(tmp_path):
    (tmp_path / "typo.yml").write_text(
        CAMPAIGN_YAML.replace("id: exactly_once_offer", "id: typo")
        .replace("variables: [first_name]", "variables: [frist_name]")
        .replace('cron: "0 11 * * *"', 'cron: "0 25 * * *"')
    )
    (tmp_path / "shares.yml").write_text(
        CAMPAIGN_YAML.replace("id: exactly_once_offer", "id: shares").replace("0.5}", "0.6}")
    )
    (tmp_path / "ghost.yml").write_text(
        CAMPAIGN_YAML.replace("id: exactly_once_offer", "id: ghost").replace(
            "segment: test_segment", "segment: no_such_segment"
        )
    )
    (tmp_path / "broken.yml").write_text("id: [unclosed\n")
    with pytest.raises(CampaignFileError) as caught:
        load_campaigns(tmp_path, segments_dir=_segments(tmp_path))
    message = str(caught.value)
    assert f"{tmp_path / 'typo.yml'}: template.variables.0: unknown column 'frist_name'" in message
    assert f"{tmp_path / 'typo.yml'}: schedule.cron: cron '0 25 * * *'" in message
    assert f"{tmp_path / 'shares.yml'}: variants: shares must add up to 1" in message
    assert f"{tmp_path / 'ghost.yml'}: segment: unknown segment 'no_such_segment'" in message
    assert f"{tmp_path / 'broken.yml'}: not valid YAML" in message
    assert "Traceback" not in message


def _segments(tmp_path: Path) -> Path:
    folder = tmp_path / "segments"
    folder.mkdir(exist_ok=True)
    (folder / "test_segment.yml").write_text("name: test_segment\n")
    return folder


def test_each_campaign_file_is_an_asset_and_only_enabled_ones_are_scheduled(tmp_path, monkeypatch):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "exactly_once_offer.yml").write_text(CAMPAIGN_YAML)
    (folder / "paused.yml").write_text(
        CAMPAIGN_YAML.replace("id: exactly_once_offer", "id: paused").replace(
            "enabled: true", "enabled: false"
        )
    )
    monkeypatch.setenv("COD360_CAMPAIGNS_DIR", str(folder))
    monkeypatch.setenv("COD360_SEGMENTS_DIR", str(_segments(tmp_path)))
    definitions = campaign_definitions()
    keys = {a.key.to_user_string() for a in definitions.assets}
    assert {"activations/exactly_once_offer", "activations/paused"} <= keys
    (schedule,) = definitions.schedules
    assert schedule.name == "exactly_once_offer_schedule"
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 11 * * *",
        "Africa/Casablanca",
    )
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_bad_campaign_file_disables_only_that_campaign_and_says_why(tmp_path, monkeypatch):
    folder = tmp_path / "campaigns"
    folder.mkdir()
    (folder / "exactly_once_offer.yml").write_text(CAMPAIGN_YAML)
    bad = folder / "typo.yml"
    bad.write_text(
        CAMPAIGN_YAML.replace("id: exactly_once_offer", "id: typo").replace(
            'cron: "0 11 * * *"', 'cron: "0 25 * * *"'
        )
    )
    monkeypatch.setenv("COD360_CAMPAIGNS_DIR", str(folder))
    monkeypatch.setenv("COD360_SEGMENTS_DIR", str(_segments(tmp_path)))
    definitions = campaign_definitions()  # loads: the good campaign keeps running
    (schedule,) = definitions.schedules
    assert schedule.name == "exactly_once_offer_schedule"
    by_key = {a.key.to_user_string(): a for a in definitions.assets}
    assert "activations/exactly_once_offer" in by_key
    broken = by_key["activations/typo"]
    description = broken.specs_by_key[broken.key].description
    assert "Campaign disabled" in description
    assert f"{bad}: schedule.cron: cron '0 25 * * *'" in description
    # Run by hand (or in a run of the whole group), it fails with the same words.
    result = dg.materialize([broken], raise_on_error=False)
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert f"{bad}: schedule.cron: cron '0 25 * * *'" in failure.event_specific_data.error.message
    assert "Traceback" not in failure.event_specific_data.error.message


# --- running the campaign asset ---------------------------------------------------------------


@pytest.fixture
def world(tmp_path, start, monkeypatch):
    warehouse, landing, campaign, phones = build_world(tmp_path, customers=12)
    wa = WhatsAppContractServer(
        access_token=WHATSAPP_TOKEN, phone_number_id=PNID, templates=TEMPLATES, landing_dir=landing
    )
    url = start(wa)
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", WHATSAPP_TOKEN)
    resources = {
        "warehouse": WarehouseResource(path=str(warehouse), landing_dir=str(landing)),
        "whatsapp": WhatsAppCloudResource(
            base_url=url, phone_number_id=PNID, access_token=dg.EnvVar("WHATSAPP_ACCESS_TOKEN")
        ),
    }
    return warehouse, campaign, phones, wa, resources


def _upstream(passed: bool) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """Stand-in for the segment_membership model and one of its blocking dbt tests."""

    @dg.asset(key=SEGMENT_KEYS[0])
    def segment_membership() -> None:
        return None

    @dg.asset_check(asset=SEGMENT_KEYS[0], name="unique_combination", blocking=True)
    def members_unique() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR)

    return segment_membership, members_unique


def _execute(definitions, resources, instance, selection=None) -> dg.ExecuteInProcessResult:
    assets = [d for d in definitions if isinstance(d, dg.AssetsDefinition) and d.keys]
    checks = [d for d in definitions if isinstance(d, dg.AssetChecksDefinition)]
    job = dg.Definitions(
        assets=[a for a in assets if a not in checks], asset_checks=checks, resources=resources
    ).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance, asset_selection=selection, raise_on_error=False
    )


def _op(asset: dg.AssetsDefinition) -> str:
    return asset.node_def.name


def test_a_failed_blocking_check_upstream_stops_the_campaign_in_the_same_run_and_later_runs(
    world,
):
    warehouse, campaign, _phones, wa, resources = world
    asset = build_campaign_asset(campaign)
    bad_segment, bad_check = _upstream(passed=False)
    with dg.instance_for_test() as instance:  # a persistent instance, as in production
        # The gate finds the upstream check in the code location's graph, not in the run:
        # never evaluated on a persistent instance is not good enough to send.
        first = _execute([bad_segment, asset, bad_check], resources, instance, [asset.key])
        (never,) = [e for e in first.all_events if e.is_step_failure]
        assert "unique_combination: never evaluated" in str(
            never.event_specific_data.user_failure_data
        )
        same_run = _execute([bad_segment, asset, bad_check], resources, instance)
        assert not same_run.success
        assert _op(asset) not in {e.step_key for e in same_run.get_step_success_events()}
        # The schedule's run selects only the campaign: the gate reads the failed evaluation.
        scheduled = _execute([bad_segment, asset, bad_check], resources, instance, [asset.key])
        (failure,) = [e for e in scheduled.all_events if e.is_step_failure]
        assert "refuses to run" in failure.event_specific_data.error.message
        assert "unique_combination: failed" in str(failure.event_specific_data.user_failure_data)
        assert wa.requests() == []
        with connect(warehouse, read_only=True) as conn:
            assert conn.execute("select count(*) from activations.outbox").fetchone() == (0,)

        good_segment, good_check = _upstream(passed=True)
        definitions = [good_segment, asset, good_check]
        fixed = _execute(definitions, resources, instance, [SEGMENT_KEYS[0]])
        assert fixed.success
        after = _execute(definitions, resources, instance, [asset.key])
    assert after.success and len(wa.messages) > 0


def test_a_dry_run_calls_nobody_and_records_what_it_would_send(world):
    warehouse, campaign, phones, wa, resources = world
    asset = build_campaign_asset(campaign)
    result = dg.materialize(
        [asset], resources=resources,
        run_config={"ops": {_op(asset): {"config": {"dry_run": True}}}},
    )  # fmt: skip
    assert result.success and wa.requests() == []
    metadata = result.asset_materializations_for_node(_op(asset))[0].metadata
    assert metadata["mode"].value == "dry_run" and metadata["audience"].value == len(phones)
    would_send = metadata["enqueued"].value
    assert would_send + metadata["holdout"].value == len(phones) and would_send > 0
    with connect(warehouse, read_only=True) as conn:
        assert conn.execute("select count(*) from activations.outbox").fetchone() == (0,)
        rows = conn.execute(
            "select customer_phone_masked, verdict from activations.dry_run_sends"
        ).fetchall()
        runs = conn.execute("select dry_run, enqueued from activations.campaign_runs").fetchall()
    assert len(rows) == len(phones) and all("****" in masked for masked, _ in rows)
    assert sum(verdict == "send" for _, verdict in rows) == would_send
    assert runs == [(True, would_send)]


def test_without_a_token_the_campaign_only_dry_runs_and_says_why(world):
    _warehouse, campaign, _phones, wa, resources = world
    asset = build_campaign_asset(campaign)
    resources["whatsapp"] = WhatsAppCloudResource(
        base_url=resources["whatsapp"].base_url, phone_number_id=PNID, access_token=""
    )
    result = dg.materialize([asset], resources=resources)
    metadata = result.asset_materializations_for_node(_op(asset))[0].metadata
    assert metadata["mode"].value == "dry_run" and "not configured" in metadata["mode_reason"].value
    assert wa.requests() == []


def test_a_live_run_leaks_no_token_and_no_phone_number_into_logs_or_dagster_events(world, caplog):
    caplog.set_level(logging.DEBUG)
    _warehouse, campaign, phones, wa, resources = world
    asset = build_campaign_asset(campaign)
    segment, check = _upstream(True)
    wa.set_faults({"script": ["503", "throttle"]})  # failures get logged too
    with dg.instance_for_test() as instance:
        result = _execute([segment, asset, check], resources, instance)
        events = [str(entry) for entry in instance.all_logs(result.run_id)]
    assert result.success and len(wa.messages) > 0
    texts = events + [r.getMessage() for r in caplog.records]
    assert any("****" in t for t in texts)  # phones do appear, masked
    for text in texts:
        assert WHATSAPP_TOKEN not in text
        for who in phones:
            assert who not in text and who[1:] not in text, text[:300]


def test_the_shipped_campaigns_are_off_and_the_demo_switches_on_copies(tmp_path):
    """A fresh install schedules and sends nothing; the demo store runs copies switched on."""
    from sandbox.activation_demo import switched_on_campaigns

    segments = DBT_PROJECT_DIR / "segments"
    shipped = load_campaigns(CAMPAIGNS_DIR, segments_dir=segments)
    assert shipped and not any(c.enabled for c in shipped)
    demo = load_campaigns(switched_on_campaigns(tmp_path / "campaigns"), segments_dir=segments)
    assert {c.id for c in demo} == {c.id for c in shipped}
    assert all(c.enabled for c in demo)
