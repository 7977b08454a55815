"""Python reads only contracted marts, by name: the dbt manifest is checked against the code.

Every model name the product code reads (``*_MODEL`` in activations.warehouse_tables, the
lead score's input mart) must be a mart under models/marts/ with an enforced contract and
every column typed; and no product source names a dbt relation (``schema.identifier``)
or a non-mart model, so nothing reads around the contracts.
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from activations import warehouse_tables
from common.settings import PROJECT_ROOT
from ml.ad_performance import AD_PERFORMANCE_MART
from ml.features import ORDER_HISTORY_MART

PRODUCT_PACKAGES = ["common", "connectors", "ml", "activations", "orchestration"]
MARTS_PYTHON_READS = sorted(
    {
        *(value for name, value in vars(warehouse_tables).items() if name.endswith("_MODEL")),
        ORDER_HISTORY_MART,
        AD_PERFORMANCE_MART,
    }
)


def _product_sources():
    for package in PRODUCT_PACKAGES:
        yield from sorted((PROJECT_ROOT / package).rglob("*.py"))


def _string_literals(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_python_reads_the_marts_it_names():
    assert MARTS_PYTHON_READS == [
        "ad_performance",
        "carrier_city_delivery_rates",
        "customer_360",
        "order_rto_history",
        "orders",
        "orders_to_dispatch",
        "segment_membership",
        "sms_replies",
        "whatsapp_inbound_messages",
        "whatsapp_user_preferences",
    ]


@pytest.mark.parametrize("model", MARTS_PYTHON_READS)
def test_every_mart_python_reads_has_an_enforced_contract_with_typed_columns(dbt_manifest, model):
    node = dbt_manifest.models()[model]
    assert node["config"]["contract"]["enforced"] is True
    assert node["fqn"][1] == "marts"
    target = dbt_manifest.mart(model)  # what the code calls: refuses anything else
    untyped = [name for name, data_type in target.columns.items() if not data_type]
    assert target.columns and untyped == []
    assert node["description"].strip(), "a mart states its grain in its description"
    key_tests = [
        test
        for test in json.loads(dbt_manifest.path.read_text())["nodes"].values()
        if test["resource_type"] == "test"
        and test.get("attached_node") == node["unique_id"]
        and (test.get("test_metadata") or {}).get("name") in ("unique", "unique_combination")
    ]
    assert key_tests, f"{model}: no data_test on its key (unique / unique_combination)"


def test_no_product_code_names_a_dbt_relation_or_a_model_that_is_not_a_contracted_mart(
    dbt_manifest,
):
    models = dbt_manifest.models()
    relations = {f"{node['schema']}.{node['alias']}" for node in models.values()}
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(r) for r in sorted(relations, key=len, reverse=True)) + r")\b"
    )
    readable = {
        name
        for name, node in models.items()
        if node["fqn"][1] == "marts" and node["config"].get("contract", {}).get("enforced")
    }
    problems = []
    for path in _product_sources():
        where = path.relative_to(PROJECT_ROOT)
        for lineno, text in _string_literals(path):
            for found in pattern.findall(text):
                problems.append(f"{where}:{lineno} names the relation {found}")
            if text in models and text not in readable:
                problems.append(f"{where}:{lineno} names the model {text!r}, not a contracted mart")
    assert problems == []
