"""``python -m sandbox.sample_store``: see ``cli.py``."""

from sandbox.sample_store.cli import main

raise SystemExit(main())
