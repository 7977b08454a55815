"""The slice of Shopify's Admin GraphQL schema the contract server executes, and its helpers.

Type, field, argument and enum names are Shopify's (Admin API 2025-01 and
later, where ``fulfillmentOrderHold`` takes a ``handle``); only what cod360's
write-back and order pulls touch is modelled (enums with the values cod360's
markets use), so a query outside it fails validation here.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, build_schema, visit
from graphql.language import ArgumentNode, IntValueNode, Visitor

SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    enum FulfillmentHoldReason {
      AWAITING_PAYMENT HIGH_RISK_OF_FRAUD INCORRECT_ADDRESS INVENTORY_OUT_OF_STOCK
      UNKNOWN_DELIVERY_DATE OTHER AWAITING_RETURN_ITEMS
    }
    enum FulfillmentOrderStatus { OPEN IN_PROGRESS CANCELLED INCOMPLETE CLOSED SCHEDULED ON_HOLD }
    enum FulfillmentOrderHoldUserErrorCode {
      DUPLICATE_FULFILLMENT_HOLD_HANDLE DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS
      FULFILLMENT_ORDER_HOLD_LIMIT_REACHED FULFILLMENT_ORDER_NOT_FOUND
      FULFILLMENT_ORDER_NOT_SPLITTABLE GREATER_THAN_ZERO INVALID_LINE_ITEM_QUANTITY TAKEN
    }
    enum FulfillmentOrderReleaseHoldUserErrorCode {
      FULFILLMENT_ORDER_NOT_FOUND GREATER_THAN_ZERO INVALID_LINE_ITEM_QUANTITY
    }
    type FulfillmentHold implements Node {
      id: ID! handle: String reason: FulfillmentHoldReason! reasonNotes: String
      heldByRequestingApp: Boolean!
    }
    type FulfillmentOrder implements Node {
      id: ID! status: FulfillmentOrderStatus! fulfillmentHolds: [FulfillmentHold!]!
    }
    type FulfillmentOrderConnection { nodes: [FulfillmentOrder!]! }
    type Order implements Node {
      id: ID! name: String! tags: [String!]!
      fulfillmentOrders(first: Int, displayable: Boolean): FulfillmentOrderConnection!
      createdAt: DateTime updatedAt: DateTime processedAt: DateTime cancelledAt: DateTime closedAt: DateTime
      cancelReason: OrderCancelReason closed: Boolean
      displayFinancialStatus: OrderDisplayFinancialStatus
      displayFulfillmentStatus: OrderDisplayFulfillmentStatus
      paymentGatewayNames: [String!] currencyCode: CurrencyCode note: String
      phone: String email: String customer: Customer shippingAddress: MailingAddress
      subtotalPriceSet: MoneyBag totalShippingPriceSet: MoneyBag totalPriceSet: MoneyBag
      lineItems(first: Int, after: String): LineItemConnection
      customerJourneySummary: CustomerJourneySummary
    }
    scalar URL
    type UTMParameters { campaign: String content: String medium: String source: String term: String }
    type CustomerVisit implements Node {
      id: ID! occurredAt: DateTime! source: String! landingPage: URL referrerUrl: URL
      utmParameters: UTMParameters
    }
    type CustomerJourneySummary { ready: Boolean! firstVisit: CustomerVisit lastVisit: CustomerVisit }
    type Query {
      order(id: ID!): Order
      orders(
        first: Int after: String last: Int before: String
        sortKey: OrderSortKeys reverse: Boolean query: String
      ): OrderConnection!
    }
    scalar DateTime
    scalar Decimal
    enum OrderSortKeys {
      CREATED_AT CUSTOMER_NAME FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER
      PROCESSED_AT RELEVANCE TOTAL_PRICE UPDATED_AT
    }
    enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
    enum OrderDisplayFinancialStatus {
      AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
    }
    enum OrderDisplayFulfillmentStatus {
      FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT
      REQUEST_DECLINED RESTOCKED SCHEDULED UNFULFILLED
    }
    enum CurrencyCode { AED CAD DZD EGP EUR GBP MAD SAR TND USD XOF }
    enum CountryCode { AE DZ EG ES FR GB MA SA SN TN US }
    type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
    type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2 }
    type Customer implements Node {
      id: ID! firstName: String lastName: String phone: String email: String
    }
    type MailingAddress {
      firstName: String lastName: String address1: String address2: String city: String
      province: String zip: String countryCodeV2: CountryCode phone: String
    }
    type PageInfo {
      hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String
    }
    type LineItem implements Node {
      id: ID! title: String! quantity: Int! sku: String originalUnitPriceSet: MoneyBag!
    }
    type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }
    type OrderEdge { cursor: String! node: Order! }
    type OrderConnection { nodes: [Order!]! edges: [OrderEdge!]! pageInfo: PageInfo! }
    input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
    input FulfillmentOrderHoldInput {
      reason: FulfillmentHoldReason! reasonNotes: String notifyMerchant: Boolean
      externalId: String handle: String fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
    }
    type FulfillmentOrderHoldUserError {
      field: [String!] message: String! code: FulfillmentOrderHoldUserErrorCode
    }
    type FulfillmentOrderHoldPayload {
      fulfillmentHold: FulfillmentHold fulfillmentOrder: FulfillmentOrder
      remainingFulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderHoldUserError!]!
    }
    type FulfillmentOrderReleaseHoldUserError {
      field: [String!] message: String! code: FulfillmentOrderReleaseHoldUserErrorCode
    }
    type FulfillmentOrderReleaseHoldPayload {
      fulfillmentOrder: FulfillmentOrder userErrors: [FulfillmentOrderReleaseHoldUserError!]!
    }
    type UserError { field: [String!] message: String! }
    type TagsAddPayload { node: Node userErrors: [UserError!]! }
    type TagsRemovePayload { node: Node userErrors: [UserError!]! }
    type Mutation {
      fulfillmentOrderHold(id: ID!, fulfillmentHold: FulfillmentOrderHoldInput!): FulfillmentOrderHoldPayload
      fulfillmentOrderReleaseHold(id: ID!, holdIds: [ID!], externalId: String): FulfillmentOrderReleaseHoldPayload
      tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
      tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
    }
    """
)

MAX_HOLDS_PER_APP = 10  # Shopify: "up to 10 holds on a single fulfillment order" per app
AUTH_ERROR = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    """The number of ``gid://shopify/<kind>/<n>``; ``None`` for another kind; raises if malformed."""
    prefix, _, number = str(value).rpartition("/")
    if not prefix.startswith("gid://shopify/") or not number.isdigit():
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    return int(number) if prefix == f"gid://shopify/{kind}" else None


def requested_cost(document: Any) -> int:
    """A simplified calculated query cost: 10 per mutation field, 1 + ``first`` for queries."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation is OperationType.MUTATION:
        return 10 * len(operation.selection_set.selections)
    firsts: list[int] = []

    class _First(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value == "first" and isinstance(node.value, IntValueNode):
                firsts.append(int(node.value.value))

    visit(operation, _First())
    return 1 + sum(firsts)
