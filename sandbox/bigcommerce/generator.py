"""Draws the sandbox records; `data.Dataset.generate` is the entry point.

Money rules (v2 orders): amounts are computed in integer hundredths (won or cents) and rendered as
4-decimal strings. Product prices are VAT-exclusive KRW; USD orders convert at `KRW_PER_USD`.
VAT (10%) applies to items only, never to shipping, and the discount comes off the ex-tax amount:

    total_ex_tax  = subtotal_ex_tax + shipping_cost_ex_tax - discount_amount
    total_tax     = subtotal_tax
    total_inc_tax = total_ex_tax + total_tax
                  = subtotal_ex_tax + shipping_cost_inc_tax + total_tax - discount_amount

v3 catalog money stays numeric, as the real catalog API returns numbers, not strings.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

from sandbox.bigcommerce import vocabulary as vocab
from sandbox.bigcommerce.formats import iso8601, money, rfc2822

if TYPE_CHECKING:
    from sandbox.bigcommerce.data import Dataset, DatasetSize

KRW_PER_USD = 1350
DAY = 86_400
HISTORY_DAYS = 56  # date_modified spreads over the 8 weeks before the anchor
RECENT_SHARE = 0.10  # share modified in the last 24 h, so a 12 h incremental window is non-empty
_STATUS_CUM_WEIGHTS = list(itertools.accumulate(s[2] for s in vocab.ORDER_STATUSES))


class Generator:
    """Fills a Dataset. The order of draws in `fill` is part of the determinism contract."""

    def __init__(self, rng: random.Random, anchor_ts: int, size: DatasetSize) -> None:
        self.rng, self.anchor_ts, self.size = rng, anchor_ts, size
        self.catalog: list[tuple[dict, list[dict]]] = []
        self.people: dict[int, tuple[str, str, str, str, dict]] = {}
        self.line_ids = 0

    def fill(self, data: Dataset) -> None:
        self.data = data
        recent = self._recent_positions(self.size.products)
        for product_id in range(1, self.size.products + 1):
            self._product(product_id, recent.get(product_id - 1))
        recent = self._recent_positions(self.size.customers)
        for customer_id in range(1, self.size.customers + 1):
            self._customer(customer_id, recent.get(customer_id - 1))
        recent = self._recent_positions(self.size.orders)
        for n, order_id in enumerate(range(100, 100 + self.size.orders)):  # stores start at 100
            self._order(order_id, recent.get(n))

    def _recent_positions(self, count: int) -> dict[int, int]:
        """Which records (by position) were modified in the last day, and how many seconds ago.

        Exactly RECENT_SHARE of them (at least one), the first within the last 12 hours, so an
        incremental run over the default 12-hour window always has something to fetch.
        """
        chosen = self.rng.sample(range(count), max(1, round(count * RECENT_SHARE))) if count else []
        return {pos: self.rng.randrange(1, DAY // 2 if i == 0 else DAY)
                for i, pos in enumerate(chosen)}

    def _dates(self, max_age_days: int, seconds_ago: int | None) -> tuple[int, int]:
        """(date_created, date_modified): modified `seconds_ago`, else 1 day to 8 weeks ago."""
        if seconds_ago is None:
            seconds_ago = self.rng.randrange(DAY, HISTORY_DAYS * DAY)
        modified = self.anchor_ts - seconds_ago
        return modified - self.rng.randrange(0, max_age_days * DAY), modified

    def _product(self, pid: int, seconds_ago: int | None) -> None:
        rng = self.rng
        (adj_ko, adj_en), (noun_ko, noun_en) = (rng.choice(vocab.PRODUCT_ADJECTIVES),
                                                rng.choice(vocab.PRODUCT_NOUNS))
        name = f"{adj_ko} {noun_ko}" if rng.random() < 0.6 else f"{adj_en} {noun_en}"
        price = rng.randrange(50, 2000) * 100  # whole won, VAT exclusive
        sale = price * rng.randrange(70, 95) // 10_000 * 100 if rng.random() < 0.2 else 0
        sold_out = rng.random() < 0.1
        created, modified = self._dates(3 * 365, seconds_ago)
        count = rng.choices((1, 2, 3, 4), weights=(40, 20, 20, 20))[0]
        option_id, option_name, labels = rng.choice(vocab.OPTIONS)
        sku, warning = f"SKU-{pid:05d}", rng.randrange(3, 11)
        variants = []
        for k in range(count):
            vid = len(self.data.inventory_items) + 1
            upcharge = 2000 * k if count > 1 and option_name == "Size" else 0
            level = 0 if sold_out or rng.random() < 0.1 else rng.randrange(1, 200)
            safety = rng.randrange(0, 6)
            variants.append({
                "id": vid, "product_id": pid, "sku": f"{sku}-{labels[k]}" if count > 1 else sku,
                "sku_id": vid, "price": float(price + upcharge) if upcharge else None,
                "sale_price": float(sale + upcharge) if upcharge and sale else None,
                "calculated_price": float((sale or price) + upcharge), "inventory_level": level,
                "inventory_warning_level": warning, "upc": f"880{rng.randrange(10**9):09d}",
                "mpn": f"MPN-{vid:06d}", "gtin": "", "purchasing_disabled": False,
                "option_values": [{"id": option_id * 10 + k, "label": labels[k],
                                   "option_id": option_id, "option_display_name": option_name}]
                if count > 1 else [],
            })
            self.data.inventory_items.append({
                "identity": {"sku": variants[-1]["sku"], "variant_id": vid, "product_id": pid,
                             "sku_id": vid},
                "locations": [{
                    "location_id": 1, "location_code": "SEOUL-1", "location_name": "서울 물류센터",
                    "available_to_sell": max(0, level - safety), "total_inventory_onhand": level,
                    "location_enabled": True,
                    "settings": {"safety_stock": safety, "is_in_stock": level > safety,
                                 "warning_level": warning,
                                 "bin_picking_number": f"A-{rng.randrange(1, 40):02d}"},
                }],
            })
        product = {
            "id": pid, "name": f"{name} No.{pid}", "type": "physical", "sku": sku,
            "description": f"<p>{name}</p>", "weight": round(rng.uniform(0.1, 3.0), 2),
            "price": float(price), "cost_price": float(price * 6 // 1000 * 100),
            "retail_price": float(price * 12 // 1000 * 100), "sale_price": float(sale),
            "calculated_price": float(sale or price),
            "categories": sorted(rng.sample(vocab.CATEGORY_IDS, rng.randrange(1, 3))),
            "brand_id": rng.choice(tuple(vocab.BRANDS)),
            "inventory_level": sum(v["inventory_level"] for v in variants),
            "inventory_warning_level": warning,
            "inventory_tracking": "product" if count == 1 else "variant",
            "is_visible": rng.random() > 0.05, "is_featured": rng.random() < 0.1,
            "availability": "available", "condition": "New",
            "custom_url": {"url": f"/product-{pid}/", "is_customized": False},
            "date_created": iso8601(created), "date_modified": iso8601(modified),
            "base_variant_id": variants[0]["id"] if count == 1 else None,
            "total_sold": rng.randrange(0, 500), "variants": variants,
        }
        self.data.products.append(product)
        self.catalog.append((product, variants))

    def _person(self) -> tuple[str, str, str, str, dict]:
        """(first, last, company, e-mail, place) for a customer or a guest; 65% Korean."""
        rng = self.rng
        if rng.random() < 0.65:
            last, last_r = rng.choice(vocab.KO_SURNAMES)
            first, first_r = rng.choice(vocab.KO_GIVEN)
            local, domains, korean = f"{first_r}.{last_r}", vocab.KO_MAIL_DOMAINS, True
        else:
            first, last = rng.choice(vocab.EN_FIRST), rng.choice(vocab.EN_LAST)
            local, domains, korean = f"{first}.{last}".lower(), vocab.EN_MAIL_DOMAINS, False
        return first, last, rng.choice(vocab.COMPANIES), f"{local}@{rng.choice(domains)}", \
            self._place(korean or rng.random() < 0.5)

    def _place(self, seoul: bool) -> dict:
        rng = self.rng
        if seoul:
            district, road, zip_code = rng.choice(vocab.SEOUL_ROADS)
            return {"street_1": f"{district} {road} {rng.randrange(1, 400)}",
                    "street_2": rng.choice(vocab.SEOUL_UNITS), "city": "서울특별시",
                    "state": "서울", "zip": zip_code, "country": "South Korea",
                    "country_iso2": "KR",
                    "phone": f"010-{rng.randrange(1000, 10_000)}-{rng.randrange(10_000):04d}",
                    "ip": f"211.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}
        street, city, state, zip_code = rng.choice(vocab.US_ADDRESSES)
        return {"street_1": street, "street_2": rng.choice(vocab.US_UNITS), "city": city,
                "state": state, "zip": zip_code, "country": "United States", "country_iso2": "US",
                "phone": f"+1 {rng.randrange(201, 990)}-555-{rng.randrange(10_000):04d}",
                "ip": f"73.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}

    def _customer(self, cid: int, seconds_ago: int | None) -> None:
        rng = self.rng
        first, last, company, email, place = self._person()
        email = email.replace("@", f"{cid}@")  # the store enforces unique e-mails
        created, modified = self._dates(2 * 365, seconds_ago)
        n_addresses = rng.choices((0, 1, 2), weights=(15, 65, 20))[0]
        places = [place, self._place(place["country_iso2"] == "KR")][:n_addresses]
        addresses = [{
            "id": cid * 10 + i, "customer_id": cid, "first_name": first, "last_name": last,
            "company": company, "address1": p["street_1"], "address2": p["street_2"],
            "city": p["city"], "state_or_province": p["state"], "postal_code": p["zip"],
            "country": p["country"], "country_code": p["country_iso2"], "phone": p["phone"],
            "address_type": "commercial" if company else "residential", "form_fields": [],
        } for i, p in enumerate(places)]
        attributes = [{"id": cid, "attribute_id": 1, "value": rng.choice(("ko", "en")),
                       "customer_id": cid, "date_created": iso8601(created),
                       "date_modified": iso8601(modified)}] if rng.random() < 0.3 else []
        self.data.customers.append({
            "id": cid, "email": email, "first_name": first, "last_name": last,
            "company": company, "phone": place["phone"], "registration_ip_address": place["ip"],
            "notes": "", "tax_exempt_category": "", "customer_group_id": rng.choice((0, 0, 1, 2)),
            "date_created": iso8601(created), "date_modified": iso8601(modified),
            "address_count": len(addresses), "attribute_count": len(attributes),
            "addresses": addresses, "attributes": attributes,
            "form_fields": [{"name": "referral_source",
                             "value": rng.choice(("instagram", "naver_blog", "friend"))}]
            if rng.random() < 0.2 else [],
            "store_credit_amounts": [{"amount": float(rng.choice((0, 0, 0, 5000)))}],
            "accepts_product_review_abandoned_cart_emails": rng.random() < 0.6,
            "origin_channel_id": 1, "channel_ids": [1],
        })
        self.people[cid] = (first, last, company, email, place)
        if rng.random() < 0.5:
            namespace, key, values = rng.choice(vocab.METAFIELDS)
            recently = rng.random() < RECENT_SHARE  # metafields come and go: no fixed plan
            m_created, m_modified = self._dates(30, rng.randrange(1, DAY) if recently else None)
            self.data.customer_metafields.append({
                "id": len(self.data.customer_metafields) + 1, "key": key,
                "value": rng.choice(values), "namespace": namespace,
                "permission_set": rng.choice(vocab.PERMISSION_SETS),
                "description": f"{namespace}.{key}", "resource_type": "customer",
                "resource_id": cid, "date_created": iso8601(m_created),
                "date_modified": iso8601(m_modified),
            })

    def _order(self, oid: int, seconds_ago: int | None) -> None:
        rng = self.rng
        guest = not self.people or rng.random() < 0.08  # guests check out as customer 0
        cid = 0 if guest else rng.randrange(1, self.size.customers + 1)
        first, last, company, email, place = self.people.get(cid) or self._person()
        usd = place["country_iso2"] == "US"
        unit = 1 if usd else 100  # rounding step in hundredths: cents for USD, whole won for KRW
        status_id, status, _, payment_status = rng.choices(
            vocab.ORDER_STATUSES, cum_weights=_STATUS_CUM_WEIGHTS)[0]
        created, modified = self._dates(14, seconds_ago)
        picks = rng.sample(self.catalog, min(len(self.catalog), rng.choice((1, 1, 1, 2, 2, 3, 4))))
        lines = [self._line(oid, product, variants, usd, unit) for product, variants in picks]
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
            lines[0]["applied_discounts"] = [{"id": coupon, "amount": money(discount),
                                              "name": coupon, "code": coupon, "target": "order"}]
        items_shipped = sum(line["quantity_shipped"] for line in lines)
        shipped_at = created + rng.randrange(0, modified - created + 1)
        refs = {part: {"url": f"v2/orders/{oid}/{part}", "resource": f"/orders/{oid}/{part}"}
                for part in ("products", "shipping_addresses", "coupons")}
        self.data.order_products[oid] = lines
        self.data.orders.append({
            "id": oid, "customer_id": cid, "date_created": rfc2822(created),
            "date_modified": rfc2822(modified),
            "date_shipped": rfc2822(shipped_at) if items_shipped else "",
            "status_id": status_id, "status": status, "cart_id": self._uuid(), "channel_id": 1,
            "order_source": rng.choice(vocab.ORDER_SOURCES),
            "currency_code": "USD" if usd else "KRW",
            "currency_exchange_rate": f"{1 / KRW_PER_USD:.10f}" if usd else "1.0000000000",
            "default_currency_code": "KRW",
            "payment_method": rng.choice(("Credit Card", "PayPal") if usd
                                         else vocab.PAYMENT_METHODS),
            "payment_status": payment_status,
            "items_total": sum(line["quantity"] for line in lines), "items_shipped": items_shipped,
            "is_deleted": False, "ip_address": place["ip"],
            "geoip_country_iso2": place["country_iso2"], "staff_notes": "", "customer_message": "",
            "subtotal_ex_tax": money(subtotal_ex), "subtotal_inc_tax": money(subtotal_inc),
            "subtotal_tax": money(subtotal_inc - subtotal_ex), "total_ex_tax": money(total_ex),
            "total_inc_tax": money(total_inc), "total_tax": money(subtotal_inc - subtotal_ex),
            "shipping_cost_ex_tax": money(shipping), "shipping_cost_inc_tax": money(shipping),
            "discount_amount": money(discount), "coupon_discount": money(discount),
            "refunded_amount": money(refunded), "store_credit_amount": money(0),
            "billing_address": {
                "first_name": first, "last_name": last, "company": company,
                "street_1": place["street_1"], "street_2": place["street_2"],
                "city": place["city"], "state": place["state"], "zip": place["zip"],
                "country": place["country"], "country_iso2": place["country_iso2"],
                "phone": place["phone"], "email": email,
            },
            **refs,
        })

    def _line(self, oid: int, product: dict, variants: list[dict], usd: bool, unit: int) -> dict:
        """One order product; `_ex`/`_inc` carry the line totals in hundredths to the order."""
        rng = self.rng
        variant = rng.choice(variants)
        won = int(variant["calculated_price"])
        ex = round(won * 100 / KRW_PER_USD) if usd else won * 100
        inc = round(ex * 1.1 / unit) * unit  # 10% VAT, rounded to a whole won or cent
        quantity = rng.randrange(1, 4)
        self.line_ids += 1
        opid = self.line_ids
        return {
            "id": opid, "order_id": oid, "product_id": product["id"], "variant_id": variant["id"],
            "name": product["name"], "sku": variant["sku"], "type": "physical",
            "base_price": money(ex), "price_ex_tax": money(ex), "price_inc_tax": money(inc),
            "price_tax": money(inc - ex), "base_total": money(ex * quantity),
            "total_ex_tax": money(ex * quantity), "total_inc_tax": money(inc * quantity),
            "total_tax": money((inc - ex) * quantity), "quantity": quantity,
            "quantity_shipped": 0, "quantity_refunded": 0, "is_refunded": False,
            "refund_amount": money(0), "brand": vocab.BRANDS[product["brand_id"]],
            "upc": variant["upc"], "applied_discounts": [],
            "product_options": [{
                "id": ov["id"], "option_id": ov["option_id"], "order_product_id": opid,
                "display_name": ov["option_display_name"], "display_value": ov["label"],
                "value": str(ov["id"]), "type": "Multiple choice",
                "name": ov["option_display_name"]} for ov in variant["option_values"]],
            "_ex": ex * quantity, "_inc": inc * quantity,
        }

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
