"""``cod360 campaign``: the campaigns from the command line, beside the UI.

    cod360 campaign list                 every campaign file: on or off, segment, schedule
    cod360 campaign preview ID           audience, who the rules hold back, the A/B and
                                         holdout split, sample rows with their variables;
                                         writes nothing, sends nothing
    cod360 campaign dry-run ID           the campaign's asset as a dry run (recorded in the UI)
    cod360 campaign run ID --yes         the campaign's asset, live (a disabled campaign or
                                         one without WhatsApp credentials still dry-runs)
    cod360 campaign results ID           treated vs holdout, per variant, with 95 % intervals

A campaign is switched on by ``enabled: true`` in its file; every sample campaign ships
switched off, so nothing is sent until someone turns one on.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from activations.campaign_config import Campaign, load_campaign_files


def _loaded():
    from orchestration.defs.activations.campaigns import campaigns_dir, segments_dir

    return load_campaign_files(campaigns_dir(), segments_dir=segments_dir())


def _campaign(campaign_id: str) -> Campaign | None:
    loaded = _loaded()
    found = next((c for c in loaded.campaigns if c.id == campaign_id), None)
    if found is None:
        broken = [p for p in loaded.problems if p.stem == campaign_id]
        if broken:
            print(f"campaign file {broken[0]} is invalid:", file=sys.stderr)
            for problem in loaded.problems[broken[0]]:
                print(f"  {problem}", file=sys.stderr)
        else:
            known = ", ".join(sorted(c.id for c in loaded.campaigns)) or "none"
            print(f"no campaign {campaign_id!r} (campaigns: {known})", file=sys.stderr)
    return found


def _list(_args: argparse.Namespace) -> int:
    loaded = _loaded()
    print(f"{'campaign':<34} {'state':<9} {'category':<10} {'segment':<26} schedule")
    for c in sorted(loaded.campaigns, key=lambda c: c.id):
        state = "ON" if c.enabled else "off"
        schedule = f"{c.schedule.cron} ({c.schedule.timezone})" if c.enabled else "-"
        print(f"{c.id:<34} {state:<9} {c.category.value:<10} {c.segment:<26} {schedule}")
    for path, problems in loaded.problems.items():
        print(f"{path.stem:<34} {'INVALID':<9} {problems[0]}")
    on = sum(1 for c in loaded.campaigns if c.enabled)
    print(f"\n{on} of {len(loaded.campaigns)} campaigns on (`enabled: true` in the file).")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from activations.campaign_preview import preview_campaign
    from common.settings import load_settings
    from common.warehouse import connect

    campaign = _campaign(args.campaign_id)
    if campaign is None:
        return 2
    settings = load_settings()
    settings.export_env()
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path}: run the pipeline first", file=sys.stderr)
        return 2
    # On a Spark target the marts are copied into the DuckDB store first (the copy is
    # the only write; the preview itself runs in a transaction that is rolled back).
    from activations.warehouse_tables import ACTIVATION_MARTS
    from orchestration.resources import WarehouseResource

    copied = WarehouseResource(
        path=str(settings.warehouse_path), landing_dir=str(settings.landing_dir)
    ).copy_marts_here(ACTIVATION_MARTS)
    if copied:
        print(f"marts copied from Spark: {copied}")
    preview = preview_campaign(lambda: connect(settings.warehouse_path), campaign, args.at)
    print("\n".join(preview.lines(campaign)))
    print(
        "\nNothing was sent"
        + (" (only the marts' copy was written)." if copied else " or written.")
    )
    return 0


def _materialize(campaign: Campaign, *, dry_run: bool) -> int:
    from common.settings import load_settings
    from orchestration.cli import dagster_instance, materialize_everything
    from orchestration.defs.activations.common import activation_key

    load_settings().export_env()
    key = activation_key(campaign.id)
    op_name = "__".join(key.path)
    with dagster_instance() as instance:
        ok = materialize_everything(
            instance=instance,
            selection=f'key:"{key.to_user_string()}"',
            run_config={"ops": {op_name: {"config": {"dry_run": dry_run}}}},
        )
    return 0 if ok else 1


def _dry_run(args: argparse.Namespace) -> int:
    campaign = _campaign(args.campaign_id)
    return 2 if campaign is None else _materialize(campaign, dry_run=True)


def _run_live(args: argparse.Namespace) -> int:
    campaign = _campaign(args.campaign_id)
    if campaign is None:
        return 2
    if not args.yes:
        print(
            f"`cod360 campaign run {campaign.id}` sends messages: look at "
            f"`cod360 campaign preview {campaign.id}` first, then add --yes.",
            file=sys.stderr,
        )
        return 2
    if not campaign.enabled:
        print(f"{campaign.id} is off in its file: this run is a dry run.")
    return _materialize(campaign, dry_run=False)


def _results(args: argparse.Namespace) -> int:
    from activations.warehouse_tables import CAMPAIGN_RESULTS
    from common.settings import load_settings
    from common.warehouse import connect, table_exists

    settings = load_settings()
    schema, table = CAMPAIGN_RESULTS.split(".")
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path}", file=sys.stderr)
        return 2
    with connect(settings.warehouse_path, read_only=True) as conn:
        if not table_exists(conn, schema, table):
            print("no campaign results yet: materialize activations/campaign_results")
            return 0
        frame = conn.execute(
            f"select * from {CAMPAIGN_RESULTS} where campaign_id = ? order by all",
            [args.campaign_id],
        ).df()
    if frame.empty:
        print(f"no measured members for {args.campaign_id} yet")
        return 0
    from orchestration.defs.activations.measurement import _results_markdown

    print(_results_markdown(frame))
    return 0


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add +01:00 or Z)")
    return moment


def add_campaign_commands(sub: argparse._SubParsersAction) -> None:
    """``cod360 campaign …`` on the top-level parser."""
    campaign = sub.add_parser(
        "campaign",
        help="list, preview, dry-run, run and measure campaigns",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = campaign.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="every campaign file, on or off").set_defaults(func=_list)
    preview = verbs.add_parser("preview", help="what a run would do; writes and sends nothing")
    preview.add_argument("campaign_id")
    preview.add_argument(
        "--at",
        type=_moment,
        default=None,
        help="plan as of this moment (ISO 8601 with offset, e.g. 2026-12-02T11:00+01:00; "
        "default now): quiet hours and windows are judged then",
    )
    preview.set_defaults(func=_preview)
    for name, func, text in (
        ("dry-run", _dry_run, "the campaign's asset as a dry run, recorded in the UI"),
        ("results", _results, "treated vs holdout with 95 %% intervals"),
    ):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("campaign_id")
        verb.set_defaults(func=func)
    run = verbs.add_parser("run", help="the campaign's asset, live (needs --yes)")
    run.add_argument("campaign_id")
    run.add_argument("--yes", action="store_true", help="confirm that messages may be sent")
    run.set_defaults(func=_run_live)
