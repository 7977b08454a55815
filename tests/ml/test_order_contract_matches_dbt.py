"""The lead score's input contract (ml.features.ORDER_CONTRACT) is the dbt contract of its mart.

ml/ lists its input columns once, in ORDER_CONTRACT; the mart that hands them over
(ORDER_HISTORY_MART, order_rto_history) declares them with types in its enforced dbt
contract. This test keeps the two the same: a column renamed or retyped on one side only
fails here, not in a training run.
"""

from __future__ import annotations

import re

from ml.evidence import PASSTHROUGH_COLUMNS
from ml.features import CONTRACT_COLUMNS, ORDER_CONTRACT, ORDER_HISTORY_MART

# Which warehouse types can carry each kind of contract column (as declared in the mart's
# yml; text is declared `string`, the name DuckDB and Spark both know, issue 10).
TYPES_OF_KIND = {
    "text": {"varchar", "string"},
    "category": {"varchar", "string"},
    "timestamp": {"timestamp"},
    "number": {"double", "decimal", "integer", "bigint"},
    "count": {"integer", "bigint", "hugeint"},
    "flag": {"boolean"},
}


def _base_type(data_type: str) -> str:
    return re.sub(r"\(.*\)$", "", data_type.strip().lower())


def test_every_ml_input_column_is_in_the_dbt_contract_with_a_type_of_its_kind(dbt_manifest):
    declared = dbt_manifest.mart(ORDER_HISTORY_MART).columns
    missing = [c.name for c in ORDER_CONTRACT if c.name not in declared]
    assert missing == []
    wrong = {
        c.name: (c.kind, declared[c.name])
        for c in ORDER_CONTRACT
        if _base_type(declared[c.name]) not in TYPES_OF_KIND[c.kind]
    }
    assert wrong == {}


def test_the_evidence_pass_through_columns_come_from_the_one_contract():
    assert set(PASSTHROUGH_COLUMNS) < set(CONTRACT_COLUMNS)
    assert list(PASSTHROUGH_COLUMNS) == [c for c in CONTRACT_COLUMNS if c in PASSTHROUGH_COLUMNS]
    assert "outcome" not in PASSTHROUGH_COLUMNS and "resolved_at" not in PASSTHROUGH_COLUMNS
