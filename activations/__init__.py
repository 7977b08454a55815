"""Activations: talking to customers and storefronts on the brand's behalf.

``activations.clients`` holds the typed HTTP clients for the vendor APIs
(WhatsApp Cloud API, Shopify / WooCommerce / YouCan write-back, an SMS
gateway); ``activations.contract_servers`` reproduces those vendor contracts on
loopback so tests and the demo run against real HTTP without real accounts.
"""
