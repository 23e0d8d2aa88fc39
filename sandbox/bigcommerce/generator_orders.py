"""Draws v2 orders and their lines (order products); the money rules are in `generator.py`.

Currency follows BigCommerce's reference: every amount of an order is in its *transactional*
currency, `default_currency_code`; `currency_code` is only the display currency and
`currency_exchange_rate` (store currency to display currency) is always 1 through v2. The store's
own currency is `store_default_currency_code` (KRW), and revenue in it is amount /
`store_default_to_transactional_exchange_rate`, rounded to the won.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.bigcommerce import vocabulary as vocab
from sandbox.bigcommerce.formats import money, rfc2822

if TYPE_CHECKING:
    from sandbox.bigcommerce.generator import Generator

KRW_PER_USD = 1350
ONE = "1.0000000000"
CURRENCIES = {  # the store's currency records: KRW (id 1, the default) and USD (id 2)
    False: {"currency_id": 1, "currency_code": "KRW", "currency_exchange_rate": ONE,
            "default_currency_id": 1, "default_currency_code": "KRW",
            "store_default_currency_code": "KRW",
            "store_default_to_transactional_exchange_rate": ONE},
    True: {"currency_id": 2, "currency_code": "USD", "currency_exchange_rate": ONE,
           "default_currency_id": 2, "default_currency_code": "USD",
           "store_default_currency_code": "KRW",
           "store_default_to_transactional_exchange_rate": f"{1 / KRW_PER_USD:.10f}"},
}
ZERO = money(0)
# What no order of this store uses: handling fees, gift wrapping, gift certificates, store
# credit, eBay, external marketplaces. Tax classes are BigCommerce's defaults (2 shipping,
# 3 gift wrapping). Immutable values only, so every order may share them.
ORDER_DEFAULTS = {
    "base_handling_cost": ZERO, "handling_cost_ex_tax": ZERO, "handling_cost_inc_tax": ZERO,
    "handling_cost_tax": ZERO, "handling_cost_tax_class_id": 2, "base_wrapping_cost": ZERO,
    "wrapping_cost_ex_tax": ZERO, "wrapping_cost_inc_tax": ZERO, "wrapping_cost_tax": ZERO,
    "wrapping_cost_tax_class_id": 3, "shipping_cost_tax": ZERO, "shipping_cost_tax_class_id": 2,
    "gift_certificate_amount": ZERO, "store_credit_amount": ZERO, "ebay_order_id": "0",
    "external_id": None, "external_merchant_id": None, "external_order_id": "",
    "external_source": None, "is_deleted": False, "is_tax_inclusive_pricing": False,
    "order_is_digital": False, "shipping_address_count": 1, "channel_id": 1,
    "tax_provider_id": "BasicTaxProvider", "staff_notes": "", "customer_message": "",
}
LINE_DEFAULTS = {
    "type": "physical", "base_wrapping_cost": ZERO, "wrapping_cost_ex_tax": ZERO,
    "wrapping_cost_inc_tax": ZERO, "wrapping_cost_tax": ZERO, "wrapping_id": 0,
    "wrapping_message": "", "wrapping_name": None, "ebay_item_id": "",
    "ebay_transaction_id": "", "event_date": None, "event_name": None, "external_id": None,
    "fixed_shipping_cost": ZERO, "gift_certificate_id": None, "is_bundled_product": False,
    "order_pickup_method_id": 0, "parent_order_product_id": None, "return_id": 0,
}


def order(g: Generator, oid: int, seconds_ago: int | None) -> None:
    """Append one order to `g.data.orders` and its lines to `g.data.order_products`."""
    rng = g.rng
    guest = not g.people or rng.random() < 0.08  # guests check out as customer 0
    cid = 0 if guest else rng.randrange(1, g.size.customers + 1)
    first, last, company, email, place, korean = g.people.get(cid) or g.person()
    usd = place["country_iso2"] == "US"
    unit = 1 if usd else 100  # rounding step in hundredths: cents for USD, whole won for KRW
    status_id, status, _, payment_status = g.order_status()
    created, modified = g.dates(14, seconds_ago)
    address_id = oid - 99  # one shipping address per order, numbered like the orders
    picks = rng.sample(g.catalog, min(len(g.catalog), rng.choice((1, 1, 1, 2, 2, 3, 4))))
    lines = [_line(g, oid, address_id, product, variants, usd, unit)
             for product, variants in picks]
    line_totals = [(line.pop("_ex"), line.pop("_inc")) for line in lines]
    subtotal_ex = sum(ex for ex, _ in line_totals)
    subtotal_inc = sum(inc for _, inc in line_totals)
    free_over, flat = (10_000, 1_500) if usd else (5_000_000, 300_000)
    shipping = 0 if subtotal_ex >= free_over else flat
    coupon = rng.choice(vocab.COUPONS) if rng.random() < 0.15 else ""
    discount = round(subtotal_ex * 0.10 / unit) * unit if coupon else 0
    total_ex = subtotal_ex + shipping - discount
    total_inc = total_ex + subtotal_inc - subtotal_ex
    shipped_all, refunded = status_id in (2, 10, 13, 14), 0
    for i, (line, (_, inc)) in enumerate(zip(lines, line_totals, strict=True)):
        if shipped_all or (status_id == 3 and i == 0):  # Partially Shipped: the first line
            line["quantity_shipped"] = line["quantity"]
        if status_id == 4 or (status_id == 14 and i == 0):  # Partially Refunded: first line
            line.update(is_refunded=True, quantity_refunded=line["quantity"],
                        refund_amount=money(inc))
            # A refund never exceeds what was paid (a discounted single-line order).
            refunded = total_inc if status_id == 4 else min(inc, total_inc)
    if coupon:
        _apportion(lines, line_totals, coupon, discount, subtotal_ex, unit)
    items_shipped = sum(line["quantity_shipped"] for line in lines)
    shipped_at = created + rng.randrange(0, modified - created + 1)
    ip, ip_v6 = _addresses(g, place)
    paid = payment_status not in ("pending", "declined")
    refs = {part: {"url": f"v2/orders/{oid}/{part}", "resource": f"/orders/{oid}/{part}"}
            for part in ("products", "shipping_addresses", "coupons")}
    g.data.order_products[oid] = lines
    g.data.orders.append({
        "id": oid, "customer_id": cid, "date_created": rfc2822(created),
        "date_modified": rfc2822(modified),
        "date_shipped": rfc2822(shipped_at) if items_shipped else "",
        "status_id": status_id, "status": status, "cart_id": g.uuid(),
        "order_source": rng.choice(vocab.ORDER_SOURCES), **ORDER_DEFAULTS, **CURRENCIES[usd],
        "customer_locale": vocab.LOCALES[korean],
        "payment_method": rng.choice(("Credit Card", "PayPal") if usd
                                     else vocab.PAYMENT_METHODS),
        "payment_provider_id": f"{rng.getrandbits(64):016x}" if paid else "",
        "payment_status": payment_status,
        "items_total": sum(line["quantity"] for line in lines), "items_shipped": items_shipped,
        "ip_address": ip, "ip_address_v6": ip_v6, "geoip_country": place["country"],
        "geoip_country_iso2": place["country_iso2"], "is_email_opt_in": rng.random() < 0.4,
        "subtotal_ex_tax": money(subtotal_ex), "subtotal_inc_tax": money(subtotal_inc),
        "subtotal_tax": money(subtotal_inc - subtotal_ex), "total_ex_tax": money(total_ex),
        "total_inc_tax": money(total_inc), "total_tax": money(subtotal_inc - subtotal_ex),
        "base_shipping_cost": money(shipping), "shipping_cost_ex_tax": money(shipping),
        "shipping_cost_inc_tax": money(shipping), "discount_amount": money(discount),
        "coupon_discount": money(discount), "refunded_amount": money(refunded),
        "billing_address": {
            "first_name": first, "last_name": last, "company": company,
            "street_1": place["street_1"], "street_2": place["street_2"],
            "city": place["city"], "state": place["state"], "zip": place["zip"],
            "country": place["country"], "country_iso2": place["country_iso2"],
            "phone": place["phone"], "email": email, "form_fields": [],
        },
        **refs,
    })


def _apportion(lines: list[dict], line_totals: list[tuple[int, int]], coupon: str,
               discount: int, subtotal_ex: int, unit: int) -> None:
    """Share an order-level coupon over the lines by their ex-tax totals, as BigCommerce books
    it: each line lists its share and its total after it; the shares add up to the discount."""
    left = discount
    for i, (line, (ex, inc)) in enumerate(zip(lines, line_totals, strict=True)):
        share = left if i == len(lines) - 1 else round(discount * ex / subtotal_ex / unit) * unit
        left -= share
        line["applied_discounts"] = [{"id": coupon, "amount": money(share), "name": coupon,
                                      "code": coupon, "target": "order"}]
        line["discounted_total_inc_tax"] = money(inc - share)


def _addresses(g: Generator, place: dict) -> tuple[str, str]:
    """(ip_address, ip_address_v6): a fifth of orders come over IPv6, half of those with no
    IPv4 address recorded beside it."""
    draw = g.rng.random()
    if draw >= 0.2:
        return place["ip"], ""
    prefix = g.rng.choice(vocab.IPV6_PREFIXES[place["country_iso2"]])
    groups = ":".join(f"{g.rng.getrandbits(16):04x}" for _ in range(8 - prefix.count(":") - 1))
    return ("" if draw < 0.1 else place["ip"]), f"{prefix}:{groups}"


def _line(g: Generator, oid: int, address_id: int, product: dict, variants: list[dict],
          usd: bool, unit: int) -> dict:
    """One order product; `_ex`/`_inc` carry the line totals in hundredths to the order."""
    rng = g.rng
    variant = rng.choice(variants)
    quantity = rng.randrange(1, 4)
    key = (variant["id"], usd)
    if key not in g.line_units:
        g.line_units[key] = _unit(product, variant, usd, unit)
    fields, ex, inc = g.line_units[key]
    g.line_ids += 1
    opid = g.line_ids
    style = vocab.OPTION_STYLES.get(product["option_set_id"])
    return {
        "id": opid, "order_id": oid, "product_id": product["id"], "variant_id": variant["id"],
        "order_address_id": address_id, **fields, "base_total": money(ex * quantity),
        "total_ex_tax": money(ex * quantity), "total_inc_tax": money(inc * quantity),
        "total_tax": money((inc - ex) * quantity),
        "discounted_total_inc_tax": money(inc * quantity), "quantity": quantity,
        "quantity_shipped": 0, "quantity_refunded": 0, "is_refunded": False,
        "refund_amount": ZERO, "applied_discounts": [], "configurable_fields": [],
        "product_options": [{
            "id": ov["id"], "option_id": ov["option_id"], "order_product_id": opid,
            "product_option_id": ov["option_id"], "display_name": ov["option_display_name"],
            "display_name_customer": ov["option_display_name"],
            "display_name_merchant": ov["option_display_name"],
            "display_value": ov["label"], "display_value_customer": ov["label"],
            "display_value_merchant": ov["label"], "value": str(ov["id"]),
            "type": style[2], "display_style": style[1], "name": ov["option_display_name"],
        } for ov in variant["option_values"]] if style else [],
        "_ex": ex * quantity, "_inc": inc * quantity,
    }


def _unit(product: dict, variant: dict, usd: bool, unit: int) -> tuple[dict, int, int]:
    """What every line of one variant in one currency shares: (fields, ex, inc) per unit.

    Computed once per variant and currency (lines repeat them), immutable values only.
    """
    won, cost_won = int(variant["calculated_price"]), int(variant["cost_price"])
    ex = round(won * 100 / KRW_PER_USD) if usd else won * 100
    cost = round(cost_won * 100 / KRW_PER_USD) if usd else cost_won * 100
    inc = round(ex * 1.1 / unit) * unit  # 10% VAT, rounded to a whole won or cent
    cost_inc = round(cost * 1.1 / unit) * unit
    fields = {
        "name": product["name"], "name_customer": product["name"],
        "name_merchant": product["name"], "sku": variant["sku"], "upc": variant["upc"],
        **LINE_DEFAULTS, "bin_picking_number": variant["bin_picking_number"],
        "option_set_id": product["option_set_id"] or None,
        "base_price": money(ex), "price_ex_tax": money(ex), "price_inc_tax": money(inc),
        "price_tax": money(inc - ex), "base_cost_price": money(cost),
        "cost_price_ex_tax": money(cost), "cost_price_inc_tax": money(cost_inc),
        "cost_price_tax": money(cost_inc - cost), "weight": product["weight"],
        "width": money(int(product["width"] * 100)),
        "height": money(int(product["height"] * 100)),
        "depth": money(int(product["depth"] * 100)),
        "brand": vocab.BRANDS[product["brand_id"]],
    }
    return fields, ex, inc
