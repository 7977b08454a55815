"""The fixed structure of the simulated market: cities, carriers, platforms, catalogue.

These tables are *not* drawn from the seed: a seed changes who orders what and
when, never how Casablanca or Ozon Express behave. That keeps results comparable
across seeds (the ML engineers' best-possible AUC is a property of this world).

Effects are on the logit of the probability that a dispatched COD parcel is
delivered (positive = delivers better).
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- cities


@dataclass(frozen=True)
class City:
    name: str
    region: str  # province / region label written in addresses
    zip_code: str
    share: float  # share of customers living there
    delivery_effect: float  # logit effect on delivery (negative = more RTO)
    distance_days: float  # extra transit days from the Casablanca warehouse
    zone: str  # "centre", "north", "east", "south": carriers differ per zone


CITIES: tuple[City, ...] = (
    City("Casablanca", "Casablanca-Settat", "20000", 0.22, 0.30, 0.0, "centre"),
    City("Rabat", "Rabat-Salé-Kénitra", "10000", 0.08, 0.30, 0.3, "centre"),
    City("Salé", "Rabat-Salé-Kénitra", "11000", 0.05, -0.05, 0.3, "centre"),
    City("Mohammedia", "Casablanca-Settat", "28800", 0.03, 0.20, 0.1, "centre"),
    City("Kénitra", "Rabat-Salé-Kénitra", "14000", 0.05, 0.00, 0.5, "centre"),
    City("El Jadida", "Casablanca-Settat", "24000", 0.03, 0.05, 0.6, "centre"),
    City("Marrakech", "Marrakech-Safi", "40000", 0.09, 0.10, 1.0, "south"),
    City("Safi", "Marrakech-Safi", "46000", 0.02, -0.20, 1.2, "south"),
    City("Agadir", "Souss-Massa", "80000", 0.06, 0.00, 1.5, "south"),
    City("Laâyoune", "Laâyoune-Sakia El Hamra", "70000", 0.02, -0.75, 3.0, "south"),
    City("Dakhla", "Dakhla-Oued Ed-Dahab", "73000", 0.01, -0.85, 3.5, "south"),
    City("Fès", "Fès-Meknès", "30000", 0.08, -0.10, 1.0, "north"),
    City("Meknès", "Fès-Meknès", "50000", 0.05, -0.05, 1.0, "north"),
    City("Tanger", "Tanger-Tétouan-Al Hoceïma", "90000", 0.08, 0.15, 1.0, "north"),
    City("Tétouan", "Tanger-Tétouan-Al Hoceïma", "93000", 0.04, -0.05, 1.3, "north"),
    City("Béni Mellal", "Béni Mellal-Khénifra", "23000", 0.03, -0.25, 1.2, "centre"),
    City("Khouribga", "Béni Mellal-Khénifra", "25000", 0.02, -0.20, 0.9, "centre"),
    City("Oujda", "Oriental", "60000", 0.04, -0.40, 2.0, "east"),
    City("Nador", "Oriental", "62000", 0.03, -0.35, 2.0, "east"),
)

WAREHOUSE_CITY = "Casablanca"

# --------------------------------------------------------------------------- carriers


@dataclass(frozen=True)
class Carrier:
    name: str
    base_effect: float  # logit effect on delivery everywhere
    zone_effect: dict[str, float]  # extra logit effect per zone
    speed_days: float  # base days from pickup to first delivery attempt
    routing: dict[str, float]  # how often the store picks this carrier per zone
    tracking_prefix: str
    utc_offset: str  # how this carrier writes event times
    file_format: str  # "jsonl" or "csv"
    has_event_id: bool


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "ameex",
        0.15,
        {"centre": 0.25, "north": 0.0, "east": -0.35, "south": -0.30},
        1.0,
        {"centre": 0.34, "north": 0.18, "east": 0.10, "south": 0.12},
        "AMX",
        "+01:00",
        "jsonl",
        True,
    ),
    Carrier(
        "ozon_express",
        0.0,
        {"centre": 0.0, "north": 0.30, "east": 0.25, "south": -0.15},
        1.6,
        {"centre": 0.18, "north": 0.30, "east": 0.35, "south": 0.15},
        "OZ",
        "+01:00",
        "jsonl",
        False,
    ),
    Carrier(
        "coliix",
        -0.10,
        {"centre": 0.05, "north": -0.20, "east": -0.10, "south": 0.20},
        1.9,
        {"centre": 0.16, "north": 0.12, "east": 0.15, "south": 0.25},
        "CLX",
        "+01:00",
        "jsonl",
        True,
    ),
    Carrier(
        "sendit",
        0.05,
        {"centre": 0.10, "north": 0.0, "east": -0.20, "south": 0.30},
        1.4,
        {"centre": 0.20, "north": 0.15, "east": 0.15, "south": 0.30},
        "SDT",
        "+01:00",
        "csv",
        True,
    ),
    Carrier(
        "cathedis",
        -0.25,
        {"centre": -0.10, "north": 0.25, "east": 0.0, "south": -0.40},
        2.2,
        {"centre": 0.12, "north": 0.25, "east": 0.25, "south": 0.18},
        "CTH",
        "Z",
        "jsonl",
        False,
    ),
)

# Raw status words per carrier, by the intended meaning. Meanings:
#   picked_up        -> dispatched           (parcel collected at the warehouse)
#   in_transit       -> in_transit
#   at_hub           -> in_transit           (arrived at the destination agency)
#   out_for_delivery -> out_for_delivery
#   delivered        -> delivered
#   refused / unreachable / postponed / wrong_address / otp_not_provided
#                    -> failed_attempt with that reason
#   cancelled_by_customer -> failed_attempt, reason refused (customer cancelled at the door)
#   return_in_transit -> RTO decided, parcel travelling back (not final)
#   returned         -> returned (RTO, final)
CARRIER_STATUSES: dict[str, dict[str, tuple[str, ...]]] = {
    "ameex": {
        "picked_up": ("Ramassé",),
        "in_transit": ("Expédié",),
        "at_hub": ("Reçu agence",),
        "out_for_delivery": ("Mise en distribution",),
        "delivered": ("Livré",),
        "refused": ("Refusé",),
        "cancelled_by_customer": ("Annulé par le client",),
        "unreachable": ("Pas de réponse", "Client injoignable"),
        "postponed": ("Reporté",),
        "wrong_address": ("Adresse erronée",),
        "otp_not_provided": ("Code OTP non fourni",),
        "return_in_transit": ("Retour en cours",),
        "returned": ("Retourné",),
    },
    "ozon_express": {
        "picked_up": ("RAMASSE",),
        "in_transit": ("EXPEDIE",),
        "at_hub": ("ARRIVE AGENCE",),
        "out_for_delivery": ("EN COURS DE LIVRAISON",),
        "delivered": ("LIVRE",),
        "refused": ("REFUSE",),
        "cancelled_by_customer": ("ANNULE PAR LE CLIENT",),
        "unreachable": ("PAS DE REPONSE", "CLIENT INJOIGNABLE"),
        "postponed": ("REPORTE",),
        "wrong_address": ("ADRESSE ERRONEE",),
        "otp_not_provided": ("OTP NON FOURNI",),
        "return_in_transit": ("RETOUR EN COURS",),
        "returned": ("RETOURNE",),
    },
    "coliix": {
        "picked_up": ("Ramassé",),
        "in_transit": ("En transit",),
        "at_hub": ("Arrivé au hub",),
        "out_for_delivery": ("En cours de livraison",),
        "delivered": ("Livré",),
        "refused": ("Refusé",),
        "cancelled_by_customer": ("Annulé par le client",),
        "unreachable": ("Injoignable", "Pas de réponse"),
        "postponed": ("Reporté",),
        "wrong_address": ("Adresse incorrecte",),
        "otp_not_provided": ("Code OTP non fourni",),
        "return_in_transit": ("Retour en cours",),
        "returned": ("Retourné au vendeur",),
    },
    "sendit": {
        "picked_up": ("ramassé",),
        "in_transit": ("expédié",),
        "at_hub": ("reçu",),
        "out_for_delivery": ("mise en distribution",),
        "delivered": ("livré",),
        "refused": ("refusé",),
        "cancelled_by_customer": ("annulé par le client",),
        "unreachable": ("pas de réponse", "client injoignable"),
        "postponed": ("reporté",),
        "wrong_address": ("adresse erronée",),
        "otp_not_provided": ("otp non fourni",),
        "return_in_transit": ("retour en cours",),
        "returned": ("retourné",),
    },
    "cathedis": {
        "picked_up": ("Colis ramassé",),
        "in_transit": ("Expédié",),
        "at_hub": ("En agence",),
        "out_for_delivery": ("Mise en distribution",),
        "delivered": ("Livré",),
        "refused": ("Refusé par le client",),
        "cancelled_by_customer": ("Annulé par le client",),
        "unreachable": ("Client injoignable",),
        "postponed": ("Reporté à la demande du client",),
        "wrong_address": ("Adresse erronée",),
        "otp_not_provided": ("OTP non communiqué",),
        "return_in_transit": ("Retour en cours",),
        "returned": ("Retourné",),
    },
}

# Statuses no mapping will know (written only when the mess is on).
UNKNOWN_CARRIER_STATUSES: tuple[str, ...] = (
    "Statut 17",
    "En instance - voir agence",
    "BLOQUE DOUANE",
    "Colis endommagé - expertise",
    "SMS_RELANCE_OK",
)

COURIER_COMMENTS: dict[str, tuple[str, ...]] = {
    "delivered": ("", "", "Livré au client", "Montant encaissé"),
    "refused": (
        "client a refusé le colis",
        "refus sans motif",
        "client dit qu'il n'a rien commandé",
    ),
    "cancelled_by_customer": ("client a annulé à la livraison", "n'a plus besoin du produit"),
    "unreachable": ("client injoignable", "téléphone éteint", "ne répond pas", "boîte vocale"),
    "postponed": ("reporté à demain", "client en voyage", "rappeler samedi"),
    "wrong_address": ("adresse introuvable", "adresse incomplète", "client a déménagé"),
    "otp_not_provided": ("client n'a pas le code", "code OTP refusé"),
}

# --------------------------------------------------------------------------- platforms

PLATFORMS: tuple[str, ...] = ("shopify", "woocommerce", "youcan", "tiktok")

# share of customers acquired on each platform
PLATFORM_SHARE: dict[str, float] = {
    "shopify": 0.34,
    "woocommerce": 0.20,
    "youcan": 0.21,
    "tiktok": 0.25,
}
# Beta(a, b) of the hidden reliability of customers acquired on each platform
RELIABILITY_BETA: dict[str, tuple[float, float]] = {
    "shopify": (4.2, 1.6),
    "woocommerce": (3.8, 1.6),
    "youcan": (3.4, 1.7),
    "tiktok": (2.0, 2.2),
}
# logit effect of the channel on this order's intent (impulse buys on TikTok)
PLATFORM_INTENT: dict[str, float] = {
    "shopify": 0.15,
    "woocommerce": 0.05,
    "youcan": 0.0,
    "tiktok": -0.55,
}
# share of prepaid (card) orders per platform; TikTok leads are always COD
PREPAID_SHARE: dict[str, float] = {
    "shopify": 0.12,
    "woocommerce": 0.14,
    "youcan": 0.06,
    "tiktok": 0.0,
}

# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price: int  # MAD


CATALOGUE: tuple[Product, ...] = (
    Product("SER-ECL-30", "Sérum éclat", 149),
    Product("CRM-ARG-50", "Crème hydratante argan", 129),
    Product("HUI-ARG-100", "Huile d'argan bio 100ml", 99),
    Product("KIT-SER-3", "Kit 3 sérums", 379),
    Product("PRF-OUD-50", "Parfum oud 50ml", 259),
    Product("MON-CLS-H", "Montre classique homme", 299),
    Product("ECO-BT-01", "Écouteurs sans fil", 199),
    Product("SAC-CUIR-F", "Sac à main cuir", 349),
    Product("DJL-BRD-01", "Djellaba brodée", 449),
    Product("CAF-SAT-01", "Caftan satin", 690),
    Product("TND-RCH-01", "Tondeuse rechargeable", 179),
    Product("LIS-CHV-01", "Lisseur cheveux", 229),
    Product("ENS-SPT-01", "Ensemble sport", 249),
)
PRODUCT_WEIGHTS: tuple[float, ...] = (14, 10, 9, 6, 8, 7, 9, 5, 4, 2, 7, 7, 6)

# Ad creatives bringing visits to the landing pages; some bring riskier traffic.
AD_CREATIVES: tuple[tuple[str, float, float], ...] = (
    # (creative id, share, logit effect on intent)
    ("crt_ugc_review_01", 0.22, 0.25),
    ("crt_before_after_02", 0.18, 0.10),
    ("crt_promo_50pct_03", 0.20, -0.35),
    ("crt_gratuit_livraison_04", 0.15, -0.15),
    ("crt_influencer_05", 0.15, 0.0),
    ("crt_retarget_06", 0.10, 0.45),
)

# ------------------------------------------------------------- behaviours (issue 12)
# Real-world behaviours the lead score has to see through, drawn on their own random
# stream (simulator.behaviour_rnd).
# A share of storefront orders is filled by a bot or a prank: the form in a few seconds,
# a glance at the page, and almost never a delivery.
BOT_SHARE = 0.03
BOT_INTENT_SHIFT = -2.5
# A fraud ring: several phones ordering to a few shared addresses within days, every
# member confirming on WhatsApp within a minute, most parcels refused at the door.
FRAUD_RING_SHARE = 0.015
FRAUD_RING_CITY = "Oujda"
FRAUD_RING_ADDRESSES = (
    "Hay Al Farah, Rue 14 N° 7",
    "Lotissement Annasr, Imm 3 Apt 12",
    "Derb Sultan, Rue 61 N° 2",
)
FRAUD_RING_DELIVERY = 0.2
FRAUD_RING_INTENT_SHIFT = 2.5  # eager to confirm: the confirmation says nothing
# Channel drift: TikTok leads get riskier over the last months (a new audience the ads
# reach), on the delivery log-odds of its COD parcels.
TIKTOK_DRIFT_DAYS = 90
TIKTOK_DRIFT_LOGIT = 0.9

# --------------------------------------------------------------------------- people

FIRST_NAMES: tuple[str, ...] = (
    "Mohamed",
    "Fatima",
    "Youssef",
    "Khadija",
    "Ahmed",
    "Aicha",
    "Omar",
    "Salma",
    "Hamza",
    "Imane",
    "Yassine",
    "Meryem",
    "Mehdi",
    "Sara",
    "Anas",
    "Nadia",
    "Ayoub",
    "Hajar",
    "Karim",
    "Zineb",
    "Rachid",
    "Houda",
    "Said",
    "Samira",
    "Othmane",
    "Ghizlane",
    "Amine",
    "Latifa",
    "Ilyas",
    "Soukaina",
    "Adil",
    "Naima",
    "Badr",
    "Asmae",
    "Hicham",
    "Loubna",
    "Reda",
    "Wiam",
    "Abdelilah",
    "Kawtar",
)
LAST_NAMES: tuple[str, ...] = (
    "El Amrani",
    "Benali",
    "Alaoui",
    "Idrissi",
    "Bennani",
    "Tazi",
    "El Fassi",
    "Berrada",
    "Chraibi",
    "Lahlou",
    "Ouazzani",
    "El Idrissi",
    "Benjelloun",
    "Kettani",
    "Sqalli",
    "Bouzidi",
    "Ait Lahcen",
    "Ouali",
    "Naciri",
    "Belhaj",
    "Zouhair",
    "El Khatib",
    "Rami",
    "Haddad",
    "Moussaoui",
    "Amrani",
    "Cherkaoui",
    "Lamrani",
    "Filali",
    "Essaidi",
)
STREETS: tuple[str, ...] = (
    "Hay Mohammadi, Rue {n}",
    "Quartier Maârif, Rue {n}",
    "Lot. Al Amal, Imm {n}",
    "Bd Mohammed V, N° {n}",
    "Hay Salam, Bloc {n}",
    "Résidence Nour, Appt {n}",
    "Derb Sultan, Rue {n}",
    "Hay Riad, Av. {n}",
    "Douar Lhajeb, Maison {n}",
    "Cité Dakhla, Rue {n}",
    "Av. Hassan II, N° {n}",
    "Sidi Moumen, Lot {n}",
)
ADDRESS2: tuple[str, ...] = ("", "", "", "près de la mosquée", "en face du café", "2ème étage")

# --------------------------------------------------------------------------- storefront words

# YouCan order ``status`` integer -> ``status_object`` (slug, name). Documented in docs/landing.md.
YOUCAN_STATUSES: dict[str, tuple[int, str, str]] = {
    # slug: (status int, name, color)
    "pending": (1, "En attente", "#f5a623"),
    "confirmed": (2, "Confirmée", "#4a90e2"),
    "unreachable": (3, "Pas de réponse", "#9b9b9b"),
    "cancelled": (4, "Annulée", "#d0021b"),
    "shipped": (5, "Expédiée", "#7ed321"),
    "delivered": (6, "Livrée", "#417505"),
    "returned": (7, "Retournée", "#8b572a"),
}

WHATSAPP_TEXT_REPLIES: dict[str, tuple[str, ...]] = {
    "confirm": ("oui", "Oui", "wakha", "ok", "OK merci", "نعم", "oui je confirme", "Wakha sifto"),
    "cancel": ("non", "la", "annuler svp", "ma bghitch", "Non merci"),
    "question": ("salam, fin wsal l colis?", "Bch7al livraison?", "imta ghaywsal?", "Salam"),
    "stop": ("STOP", "stop", "Stop"),
}
SMS_REPLIES: dict[str, tuple[str, ...]] = {
    "confirm": ("OUI", "oui", "1", "Ok", "Wakha"),
    "cancel": ("NON", "non", "2"),
}
