"""Signed webhook receiver: WhatsApp, Shopify, LightFunnels and carriers → landing folder.

Run it with ``python -m connectors.webhooks`` (see README.md beside this file).
"""

from connectors.webhooks.app import create_app
from connectors.webhooks.files import recover_open_files
from connectors.webhooks.settings import Settings, SettingsError

__all__ = [
    "Settings",
    "SettingsError",
    "create_app",
    "recover_open_files",
]
