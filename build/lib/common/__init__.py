"""Plumbing every part of cod360 may import: settings, the warehouse connection,
HTTP transport (retries, auth, throttling) and masking of personal data.

Nothing here imports another cod360 package, so it can sit under all of them.
"""
