"""``python -m connectors.sample_store``: see ``cli.py``."""

from connectors.sample_store.cli import main

raise SystemExit(main())
