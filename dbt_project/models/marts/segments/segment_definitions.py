"""Segment files → validated definitions with their SQL condition.

One row per segment file in the segments folder (``dbt_project/segments/<name>.yml``,
format in ``segments/README.md``). Reading, validating and compiling the files is
``common.segments`` (plain Python, tested without dbt); this model supplies the
vocabulary from the seeds, checks each condition runs against the base model, and
writes the rows. A bad file stops the build with an error naming the file and the
field, for every bad file at once. ``segment_evaluation`` applies the conditions.
"""

import json
import os

from common.segments import (
    NO_DELIVERED_ORDER,
    OPEN_ORDER_STATUSES,
    PAYMENT_METHODS,
    PLATFORMS,
    POTENTIAL_REFUSERS,
    dbt_project_dir_flag,
    load_segments,
    resolve_segments_dir,
)

COLUMNS = (
    "segment_name",
    "label",
    "description",
    "source_file",
    "filters_json",
    "sql_condition",
    "where_sql",
)


def model(dbt, session):
    dbt.config(materialized="table")
    import pandas as pd

    base = dbt.ref("segment_customer_base")
    rfm_map = dbt.ref("rfm_segment_map")
    stages = dbt.ref("lifecycle_stages")
    stage_codes = stages.query("s", "select stage_code from s order by 1").fetchall()
    rfm_names = rfm_map.query("m", "select distinct rfm_segment from m order by 1").fetchall()
    vocabulary = {
        "platforms": PLATFORMS,
        "payment_methods": PAYMENT_METHODS,
        "order_statuses": OPEN_ORDER_STATUSES,
        "lifecycle_stages": tuple(row[0] for row in stage_codes),
        "rfm_segments": (*(row[0] for row in rfm_names), NO_DELIVERED_ORDER, POTENTIAL_REFUSERS),
    }

    def check_sql(where_sql: str) -> str | None:
        try:
            base.query("base", f"select count(*) from base where {where_sql}").fetchall()
        except Exception as exc:  # the database's own message is the useful part
            return str(exc).splitlines()[0]
        return None

    folder = resolve_segments_dir(os.environ, dbt_project_dir_flag(), os.getcwd())
    segments = load_segments(folder, vocabulary, check_sql)
    records = [
        {
            "segment_name": s.name,
            "label": s.label,
            "description": s.description,
            "source_file": s.source_file,
            "filters_json": json.dumps(s.filters, sort_keys=True, ensure_ascii=False),
            "sql_condition": s.sql,
            "where_sql": s.where_sql,
        }
        for s in segments
    ]
    # Typed as text even when the folder is empty, so the downstream models still build.
    return pd.DataFrame.from_records(records, columns=list(COLUMNS)).astype("string")
