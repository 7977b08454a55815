"""Which assets a benchmark stage must run: the target plus its never-materialized ancestors.

The scoring stage materializes ``key:order_scores``; if the code location gains an
asset it needs (an approved-version asset, say) that no earlier stage materialized, it
is added here rather than hard-coded in the benchmark. Reads the code location and the
Dagster instance of ``DAGSTER_HOME``; prints the selection (Dagster's selection syntax).

    .venv/bin/python -m benchmarks.scale_selection 'key:order_scores'
"""

from __future__ import annotations

import argparse
import sys
import warnings


def selection_with_missing_ancestors(target: str) -> str:
    """``target`` or-ed with every materializable ancestor that has no materialization."""
    import dagster as dg

    from common.settings import load_settings
    from orchestration.cli import dagster_instance

    load_settings().export_env()
    # The stages before have just parsed the dbt project (orchestration.cli run does);
    # orchestration.dbt_project parses it if there is no manifest at all.
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    chosen = dg.AssetSelection.from_string(target)
    targets = chosen.resolve(graph)
    ancestors = chosen.upstream().resolve(graph) - targets
    with dagster_instance() as instance:
        missing = sorted(
            (
                key
                for key in ancestors
                if graph.get(key).is_materializable
                and instance.get_latest_materialization_event(key) is None
            ),
            key=lambda key: key.to_user_string(),
        )
    return " or ".join([target, *(f'key:"{key.to_user_string()}"' for key in missing)])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", help="asset selection, e.g. 'key:order_scores'")
    args = parser.parse_args()
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    print(selection_with_missing_ancestors(args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
