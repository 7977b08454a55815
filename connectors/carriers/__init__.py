"""Carrier APIs: tracking pulled into the landing folder, parcels created with instructions.

Two documented APIs: Yalidine / Guepex REST v1 (:mod:`connectors.carriers.yalidine`)
and the EcoTrack platform shared by many Algerian couriers
(:mod:`connectors.carriers.ecotrack`). Tracking pulls write the carrier envelope
(docs/landing.md) under ``tracking/<carrier>/<account>/`` through the storefront
engine (high-water mark, overlap window, atomic commits); accounts are configured
in ``accounts.yml`` (:mod:`connectors.carriers.config`). The delivery-code
requirement goes to the carrier through the field its API offers, once per parcel,
recorded in an operational store (:mod:`connectors.carriers.instructions`).

Moroccan carriers (Sendit, Ameex, Ozon Express, Cathedis): no public API contract
was found in the sources available to us (docs/carriers.md says what was), so none
is implemented; they keep arriving as files.
"""
