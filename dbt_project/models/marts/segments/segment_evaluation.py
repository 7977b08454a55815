"""Who is in each segment on the run date: every definition's condition over the base.

One row per segment × member customer, as of the run date. The conditions were
validated and compiled by ``segment_definitions``; this model only applies them, in
one statement (a ``union all`` of one select per segment).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    definitions = dbt.ref("segment_definitions")
    base = dbt.ref("segment_customer_base")
    rows = definitions.query(
        "d", "select segment_name, where_sql from d order by segment_name"
    ).fetchall()
    selects = [
        # segment_name is snake_case (validated), safe to write as a literal.
        f"select cast('{name}' as varchar) as segment_name, as_of_date, "
        f"cast(customer_phone as varchar) as customer_phone "
        f"from base where {where_sql}"
        for name, where_sql in rows
    ]
    if not selects:
        # No segment file: an empty table with the right columns.
        selects = [
            "select cast(null as varchar) as segment_name, as_of_date, "
            "cast(customer_phone as varchar) as customer_phone "
            "from base where false"
        ]
    sql = " union all ".join(selects) + " order by segment_name, customer_phone"
    return base.query("base", sql)
