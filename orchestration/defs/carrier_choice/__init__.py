"""Carrier choice per order (after scoring) and the daily dispatch manifest per carrier."""
