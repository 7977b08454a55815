"""Local contract servers: the vendor APIs activations call, reproduced on loopback.

One Starlette app per vendor (:class:`WhatsAppContractServer`,
:class:`ShopifyContractServer`, :class:`WooCommerceContractServer`,
:class:`YouCanContractServer`, :class:`SmsContractServer`, and for order
pulls only :class:`LightFunnelsContractServer` and
:class:`PrestaShopContractServer`), all sharing
fault injection (:class:`FaultPlan`), request recording, rate limits and
duplicate tracking (``common``). :func:`serve` runs any of them in a
background thread; ``python -m sandbox.contract_servers <vendor>`` runs
one in the foreground for the demo.
"""

from sandbox.contract_servers.common import ContractServer, Fault, FaultPlan, RecordedRequest
from sandbox.contract_servers.lightfunnels import LightFunnelsContractServer
from sandbox.contract_servers.prestashop import PrestaShopContractServer
from sandbox.contract_servers.runner import serve
from sandbox.contract_servers.shopify import ShopifyContractServer
from sandbox.contract_servers.sms import SmsContractServer
from sandbox.contract_servers.whatsapp import (
    ApprovedTemplate,
    RecipientFailure,
    ScriptedReply,
    WhatsAppContractServer,
)
from sandbox.contract_servers.woocommerce import WooCommerceContractServer
from sandbox.contract_servers.youcan import YouCanContractServer

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
