"""Signed webhook receiver: WhatsApp, Shopify, LightFunnels and carriers → landing folder.

Run it with ``python -m connectors.webhooks`` (see README.md beside this file).
A sensor lists what is ready to ingest with ``closed_files``.
"""

from connectors.webhooks.app import create_app
from connectors.webhooks.files import ClosedFile, ClosedFiles, closed_files, recover_open_files
from connectors.webhooks.settings import Settings, SettingsError

__all__ = [
    "ClosedFile",
    "ClosedFiles",
    "Settings",
    "SettingsError",
    "closed_files",
    "create_app",
    "recover_open_files",
]
