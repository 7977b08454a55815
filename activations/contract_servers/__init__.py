"""Local contract servers: the vendor APIs activations call, reproduced on loopback.

One Starlette app per vendor (:class:`WhatsAppContractServer`,
:class:`ShopifyContractServer`, :class:`WooCommerceContractServer`,
:class:`YouCanContractServer`, :class:`SmsContractServer`, and for order
pulls only :class:`LightFunnelsContractServer` and
:class:`PrestaShopContractServer`), all sharing
fault injection (:class:`FaultPlan`), request recording, rate limits and
duplicate tracking (``common``). :func:`serve` runs any of them in a
background thread; ``python -m activations.contract_servers <vendor>`` runs
one in the foreground for the demo.
"""

from activations.contract_servers.common import ContractServer, Fault, FaultPlan, RecordedRequest
from activations.contract_servers.lightfunnels import LightFunnelsContractServer
from activations.contract_servers.prestashop import PrestaShopContractServer
from activations.contract_servers.runner import serve
from activations.contract_servers.shopify import ShopifyContractServer
from activations.contract_servers.sms import SmsContractServer
from activations.contract_servers.whatsapp import (
    ApprovedTemplate,
    RecipientFailure,
    ScriptedReply,
    WhatsAppContractServer,
)
from activations.contract_servers.woocommerce import WooCommerceContractServer
from activations.contract_servers.youcan import YouCanContractServer

__all__ = [
    "ApprovedTemplate",
    "ContractServer",
    "Fault",
    "FaultPlan",
    "LightFunnelsContractServer",
    "PrestaShopContractServer",
    "RecipientFailure",
    "RecordedRequest",
    "ScriptedReply",
    "ShopifyContractServer",
    "SmsContractServer",
    "WhatsAppContractServer",
    "WooCommerceContractServer",
    "YouCanContractServer",
    "serve",
]
