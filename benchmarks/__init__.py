"""Scripts that print figures (speed, memory, quality); never timed tests. Run from the
repository root as ``.venv/bin/python -m benchmarks.<name> --help``."""
