"""The non-money fields of a v2 order: who, when, where from, in which state (see `orders.py`).

Where a buyer is: `ip_address` and `ip_address_v6` are classified `ip`, and so are
`geoip_country` and `geoip_country_iso2`, because they are looked up from that IP and say
where the person was when they ordered (erasing the IP must erase them too).
`customer_locale` is classified `address`: the language and region the shopper chose locate
them as surely as a country in their address does, and joined to an order time and a city it
narrows a person down. `billing_address` is one JSON object holding the buyer's name,
street, phone and e-mail, so the whole object is classified `address` (each part inside it is
masked with it). Shipping addresses are not in the record: the order only links to them.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.bigcommerce.fields import nested, text, v2_time

# The v2 order statuses, (status_id, status), as BigCommerce defines them.
STATUSES = [
    (0, "Incomplete"), (1, "Pending"), (2, "Shipped"), (3, "Partially Shipped"),
    (4, "Refunded"), (5, "Cancelled"), (6, "Declined"), (7, "Awaiting Payment"),
    (8, "Awaiting Pickup"), (9, "Awaiting Shipment"), (10, "Completed"),
    (11, "Awaiting Fulfillment"), (12, "Manual Verification Required"), (13, "Disputed"),
    (14, "Partially Refunded"),
]
# Empty for orders staff enter by hand; else an IPv4 or IPv6 address.
IP = r"^$|^\d{1,3}(?:\.\d{1,3}){3}$|^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$"
UUID = r"^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
LINK = "({url, resource}); the link holds no data itself."
PAYMENT_STATUSES = [
    "", "authorized", "captured", "capture pending", "declined", "held for review", "paid",
    "partially refunded", "pending", "refunded", "void", "void pending",
]


class OrderFacts(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Order id (the store starts at 100).")
    customer_id: Series[int] = pa.Field(
        ge=0, description="Customer who ordered; 0 for a guest checkout."
    )
    date_created: Series[pd.DatetimeTZDtype] = v2_time("When the order was placed (UTC).")
    date_modified: Series[pd.DatetimeTZDtype] = v2_time(
        "Last change to the order (UTC); the extraction watermark."
    )
    date_shipped: Series[pd.DatetimeTZDtype] = v2_time(
        "When the first item shipped (UTC); empty until something ships.", nullable=True
    )
    status_id: Series[int] = pa.Field(
        isin=[status_id for status_id, _ in STATUSES], description="Order status code."
    )
    status: Series[str] = pa.Field(
        isin=[status for _, status in STATUSES], description="Order status name."
    )
    is_deleted: Series[bool] = pa.Field(description="Archived by staff (kept for accounting).")
    cart_id: Series[str] = pa.Field(
        str_matches=UUID, description="Storefront cart the order came from; empty if manual."
    )
    channel_id: Series[int] = pa.Field(ge=1, description="Sales channel (1 = the storefront).")
    order_source: Series[str] = text("Where it was placed (www, mobile, manual, a marketplace).")
    external_source: Series[str] = text(
        "System that created the order outside BigCommerce (a POS, a marketplace); null if none.",
        nullable=True,
    )
    external_id: Series[str] = text(
        "The order's id in that external system, as BigCommerce records it; null if none.",
        nullable=True,
    )
    external_order_id: Series[str] = text(
        "Order id an integration set for its own system; empty if none."
    )
    external_merchant_id: Series[str] = text(
        "The store's merchant id in the external system the order came from; null if none.",
        nullable=True,
    )
    ebay_order_id: Series[str] = text("eBay order id for orders imported from eBay; else 0.")
    customer_locale: Series[str] = text(
        "Language and region the shopper used the storefront in (ko-KR, en-US).", pii="address"
    )
    ip_address: Series[str] = text(
        "IPv4 address the order was placed from; empty if entered by staff.",
        max_length=30, pii="ip", str_matches=IP,
    )
    ip_address_v6: Series[str] = text(
        "IPv6 address the order was placed from; empty if it came over IPv4.",
        max_length=39, pii="ip",
    )
    geoip_country: Series[str] = text(
        "Country name looked up from the buyer's IP address.", pii="ip"
    )
    geoip_country_iso2: Series[str] = text(
        "That country as ISO 3166 alpha-2 (KR, US); empty if unknown.",
        pii="ip", str_matches=r"^(?:[A-Z]{2})?$",
    )
    is_email_opt_in: Series[bool] = pa.Field(
        description="The buyer agreed at checkout to receive marketing e-mail."
    )
    order_is_digital: Series[bool] = pa.Field(
        description="Every item is digital: nothing to ship."
    )
    items_total: Series[int] = pa.Field(ge=0, description="Units ordered, over all lines.")
    items_shipped: Series[int] = pa.Field(ge=0, description="Units shipped so far.")
    shipping_address_count: Series[int] = pa.Field(
        ge=0, description="Addresses the order ships to (0 for a digital or pickup order)."
    )
    payment_method: Series[str] = text("How it was paid (Credit Card, PayPal, bank deposit).")
    payment_status: Series[str] = pa.Field(
        isin=PAYMENT_STATUSES, description="State of the payment at the gateway."
    )
    payment_provider_id: Series[object] = nested(
        "The payment gateway's transaction id (a string or a number, as the gateway issues "
        "it); empty without an online payment.",
        nullable=True,
    )
    tax_provider_id: Series[str] = text(
        "Service that computed the tax (BasicTaxProvider = the store's own tax rules)."
    )
    staff_notes: Series[str] = text(
        "Staff notes about the order.", max_length=65_535, pii="free_text"
    )
    customer_message: Series[str] = text(
        "The buyer's message at checkout.", pii="free_text"
    )
    billing_address: Series[object] = nested(
        "Billing name, company, street, city, state, zip, country, phone and e-mail "
        "(JSON object).",
        pii="address",
    )
    products: Series[object] = nested(f"Link to the order's lines {LINK}")
    shipping_addresses: Series[object] = nested(f"Link to the shipping addresses {LINK}")
    coupons: Series[object] = nested(f"Link to the coupons used {LINK}")
