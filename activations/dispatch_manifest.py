"""The daily dispatch manifest: one pickup sheet (CSV) per carrier of the orders to collect.

The orders are the mart ``orders_to_dispatch`` (live, confirmed, not picked up yet), each
given to the carrier already assigned to it, else to the one recommended for it
(``ml.carrier_recommendations``, :mod:`activations.carrier_choice`). The columns are the
ones carriers' pickup sheets use: reference, name, phone, city, address, COD amount and
whether the courier must ask for the customer's delivery code.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from activations.warehouse_tables import (
    CARRIER_RECOMMENDATIONS,
    ORDERS_TO_DISPATCH_MODEL,
    relation_exists,
)
from common.marts import mart

# The columns carriers' pickup sheets use, in this order.
MANIFEST_COLUMNS = (
    "reference",
    "name",
    "phone",
    "city",
    "address",
    "cod_amount",
    "delivery_code_required",
)


@dataclass(frozen=True)
class ManifestRun:
    day: date
    folder: Path
    rows_by_carrier: dict[str, int]
    files: dict[str, Path]
    without_carrier: int


def manifest_rows(conn: duckdb.DuckDBPyConnection, delivery_codes_on: bool) -> pd.DataFrame:
    """The orders waiting for pickup, each with its carrier (assigned, else recommended)."""
    to_dispatch = mart(ORDERS_TO_DISPATCH_MODEL)
    if not relation_exists(conn, to_dispatch):
        return pd.DataFrame(columns=["carrier", *MANIFEST_COLUMNS])
    recommended = (
        f"left join {CARRIER_RECOMMENDATIONS} r on r.order_ref = d.order_ref"
        if relation_exists(conn, CARRIER_RECOMMENDATIONS)
        else "left join (select null::varchar as order_ref, null::varchar as "
        "recommended_carrier) r on r.order_ref = d.order_ref"
    )
    frame = conn.execute(
        f"""
        select coalesce(d.assigned_carrier, r.recommended_carrier) as carrier,
            d.order_ref as reference,
            d.customer_name as name, d.customer_phone as phone, d.city, d.address,
            cast(d.cod_amount as double) as cod_amount,
            case when d.is_cod and ? then 'yes' else 'no' end as delivery_code_required
        from {to_dispatch} d
        {recommended}
        order by carrier, d.order_ref
        """,
        [delivery_codes_on],
    ).df()
    return frame


def _csv_text(rows: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for record in rows[list(MANIFEST_COLUMNS)].itertuples(index=False):
        writer.writerow(["" if _missing(v) else _cell(v) for v in record])
    return out.getvalue()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def write_dispatch_manifests(
    conn: duckdb.DuckDBPyConnection, exports_dir: Path, day: date, *, delivery_codes_on: bool
) -> ManifestRun:
    """Write ``<exports>/dispatch/<day>/<carrier>.csv``: one pickup sheet per carrier.

    Idempotent: the same data gives the same bytes (no time inside, rows by reference), and
    a carrier with nothing left to pick up that day loses its old file.
    """
    rows = manifest_rows(conn, delivery_codes_on)
    folder = exports_dir / "dispatch" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    with_carrier = rows[rows["carrier"].notna()]
    files: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for carrier, group in with_carrier.groupby("carrier", sort=True):
        path = folder / f"{carrier}.csv"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(_csv_text(group), encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a sheet
        files[str(carrier)], counts[str(carrier)] = path, len(group)
    for stale in folder.glob("*.csv"):
        if stale.stem not in files:
            stale.unlink()
    return ManifestRun(day, folder, counts, files, int(rows["carrier"].isna().sum()))
