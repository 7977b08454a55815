"""Activations: talking to customers and storefronts on the brand's behalf.

``activations.clients`` holds the typed HTTP clients for the vendor APIs
(WhatsApp Cloud API, Shopify / WooCommerce / YouCan write-back, an SMS
gateway); ``sandbox.contract_servers`` reproduces those vendor contracts on
loopback so tests and the demo run against real HTTP without real accounts.

On top of them:

- ``campaign_config`` (+ the YAML files in ``campaigns/``), ``audience``,
  ``campaign_planning`` and ``campaign_runner``: campaigns as configuration;
- ``rules``: the sending rules, in one pure module;
- ``outbox``, ``delivery``, ``suppression``: exactly-once sending and opt-outs;
- ``confirmation``, ``otp``, ``delivery_codes``: the order-confirmation and
  delivery-code flows;
- ``decisions``, ``agent_queue``: storefront write-back and the agent queue;
- ``measurement``: treated vs holdout results and the message funnel;
- ``warehouse_tables``: the tables read and the ``activations`` schema written;
- ``demo_servers``: every contract server at once, for the demo.
"""
