"""Plumbing every part of cod360 may import: settings, the warehouse connection,
HTTP transport (retries, auth, throttling), masking of personal data, and the segment
files' compiler (``segments``, called by a dbt Python model).

Nothing here imports another cod360 package, so it can sit under all of them.
"""
