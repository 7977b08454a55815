"""The cod360 Dagster code location."""
