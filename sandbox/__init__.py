"""The outside world, faked: everything the demo, the tests and the benchmarks use
in place of real stores, carriers and vendors.

- ``sample_store``: the simulated COD brand that writes a landing folder;
- ``contract_servers``: the vendor APIs (WhatsApp, storefronts, SMS) on loopback;
- ``storefront_demo``, ``demo_servers``, ``activation_demo``, ``demo_summary`` and
  ``demo``: the runners behind ``make demo``.

Product code (``common``, ``connectors``, ``ml``, ``activations``,
``orchestration``) never imports this package (``tests/test_import_graph.py``), and
the product wheel does not contain it.
"""
