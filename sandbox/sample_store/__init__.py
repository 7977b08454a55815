"""The sample store: a simulated Moroccan COD brand writing cod360's landing folder.

``generate(out_dir, truth_dir, customers=..., months=..., seed=...)`` writes the
storefront orders, TikTok leads, carrier tracking events, WhatsApp webhooks, SMS
events and lead signals of docs/landing.md, plus truth files (hidden
reliability, true outcomes, delivery probabilities) that the ingestion never
reads. ``python -m sandbox.sample_store --help`` is the command line.
"""

from sandbox.sample_store.simulator import (
    DEFAULT_END_DATE,
    SOURCES,
    SampleStoreSummary,
    generate,
)

__all__ = ["DEFAULT_END_DATE", "SOURCES", "SampleStoreSummary", "generate"]
