"""The bulk check (one DuckDB query per batch) never accepts what the per-record path
quarantines, gives the same newest event time, and does accept clean records."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from benchmarks.boundary_fuzz import good_records
from benchmarks.boundary_mutations import JSON_MUTATIONS
from connectors.ingestion import LANDING_SOURCES, SOURCES_BY_NAME
from connectors.ingestion.bulk_checks import SHAPES, uses_bulk_check
from connectors.ingestion.domain_rules import LoadWindow
from connectors.ingestion.loader import _bulk_verdicts, _validate
from connectors.ingestion.readers import RawRecord


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Clean records of every source, each also mutated once (good and bad mutations)."""
    pool, end = good_records(tmp_path_factory.mktemp("bulk"), customers=40, seed=11)
    load_time = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=2)
    rnd = random.Random(11)
    texts: dict[str, list[str]] = {}
    for source, records in pool.items():
        source = source.split(":")[0]
        found = texts.setdefault(source, [])
        for record in records[:150]:
            found.append(json.dumps(record, ensure_ascii=False))
            for _ in range(3):
                mutated = rnd.choice(JSON_MUTATIONS)(source, copy.deepcopy(record), rnd)
                if mutated is not None:
                    raw = mutated.raw
                    if raw is None:
                        raw = json.dumps(mutated.record, ensure_ascii=False)
                    if not raw.startswith("LATIN1:") and "\n" not in raw and "\r" not in raw:
                        found.append(raw)
    texts["shopify_webhook_orders"] = _shopify_webhook_bodies(pool["shopify_orders"][:150])
    return texts, LoadWindow.at(load_time)


def _shopify_webhook_bodies(nodes: list[dict]) -> list[str]:
    """REST order bodies made from the sample's GraphQL nodes, each also broken in a way
    the boundary knows (the fuzz has no target for this source)."""
    texts = []
    for node in nodes:
        body = {
            "id": int(node["id"].rsplit("/", 1)[-1]),
            "created_at": node["createdAt"],
            "updated_at": node["updatedAt"],
            "total_price": node["totalPriceSet"]["shopMoney"]["amount"],
            "payment_gateway_names": node.get("paymentGatewayNames") or [],
            "line_items": [{"quantity": 1}],
        }
        good = json.dumps(body)
        texts += [
            good,
            json.dumps({**body, "total_price": "1e308"}),
            json.dumps({**body, "updated_at": "2099-12-31T00:00:00Z"}),
            json.dumps({**body, "created_at": "2026-03-01T10:00:00"}),
            json.dumps({**body, "id": True}),
            json.dumps({**body, "line_items": [{"quantity": -1}]}),
            good[:-1] + ', "id": 1}',
            good.replace('"total_price": "', '"total_price": NaN, "x": "'),
        ]
    return texts


def test_every_source_has_a_bulk_shape():
    assert set(SHAPES) == {source.name for source in LANDING_SOURCES}


@pytest.mark.parametrize("source_name", sorted(SHAPES))
def test_the_bulk_check_accepts_only_what_the_per_record_path_loads(corpus, source_name):
    texts, window = corpus
    source = SOURCES_BY_NAME[source_name]
    records = [RawRecord(i + 1, text) for i, text in enumerate(texts[source_name])]
    assert records, f"the sample store gave no {source_name}"
    conn = duckdb.connect()
    from connectors.ingestion import bulk_checks

    # Checked even for the sources the loader sends the per-record way.
    original = bulk_checks.PER_RECORD_ONLY
    try:
        bulk_checks.PER_RECORD_ONLY = frozenset()
        (verdicts,) = _bulk_verdicts_unfiltered(conn, source, window, records)
    finally:
        bulk_checks.PER_RECORD_ONLY = original
    outcome = Counter()
    for record, (accepted, newest) in zip(records, verdicts, strict=True):
        times: list[datetime] = []
        _field, reason, _payload = _validate(source, record, window, times)
        loads = reason is None
        outcome[(accepted, loads)] += 1
        assert not (accepted and not loads), (reason, record.text[:300])
        if accepted:
            expected = max(times).astimezone(UTC).replace(tzinfo=None) if times else None
            assert newest == expected, record.text[:300]
    # The fast path is really taken: most records that load are accepted in bulk.
    loaded = outcome[(True, True)] + outcome[(False, True)]
    assert outcome[(True, True)] >= 0.9 * loaded, outcome
    # And the corpus holds rejects for the per-record path to explain.
    assert outcome[(False, False)] > 0, outcome


def _bulk_verdicts_unfiltered(conn, source, window, records):
    from connectors.ingestion import loader

    return loader._bulk_verdicts(conn, source, window, [[(r, r.text) for r in records]])


def test_whatsapp_takes_the_per_record_path():
    assert not uses_bulk_check("whatsapp_webhooks")
    assert all(uses_bulk_check(s.name) for s in LANDING_SOURCES if s.name != "whatsapp_webhooks")
    conn = duckdb.connect()
    record = RawRecord(1, "{}")
    source = SOURCES_BY_NAME["whatsapp_webhooks"]
    assert _bulk_verdicts(conn, source, LoadWindow.at(None), [[(record, "{}")]]) == [
        [(False, None)]
    ]
