"""Draws the sandbox records; `data.Dataset.generate` is the entry point.

This module draws people, customers and their metafields and holds what the other kinds share
(dates, the seeded generator); the catalog is drawn in `generator_catalog.py`, orders and their
lines in `generator_orders.py`. Every record carries every field BigCommerce's reference
declares for its endpoint (`reference.py`), with the declared JSON types and enum values.

Money rules (v2 orders): amounts are computed in integer hundredths (won or cents) and rendered as
4-decimal strings. Product prices are VAT-exclusive KRW; USD orders convert at `KRW_PER_USD`.
VAT (10%) applies to items only, never to shipping, and the discount comes off the ex-tax amount:

    total_ex_tax  = subtotal_ex_tax + shipping_cost_ex_tax - discount_amount
    total_tax     = subtotal_tax
    total_inc_tax = total_ex_tax + total_tax
                  = subtotal_ex_tax + shipping_cost_inc_tax + total_tax - discount_amount

Handling, gift wrapping, gift certificates and store credit are always zero, so they never enter
the totals. v3 catalog money stays numeric, as the real catalog API returns numbers, not strings.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

from sandbox.bigcommerce import generator_catalog, generator_orders
from sandbox.bigcommerce import vocabulary as vocab
from sandbox.bigcommerce.formats import iso8601
from sandbox.bigcommerce.generator_orders import KRW_PER_USD

if TYPE_CHECKING:
    from sandbox.bigcommerce.data import Dataset, DatasetSize

__all__ = ["KRW_PER_USD", "Generator"]
DAY = 86_400
HISTORY_DAYS = 56  # date_modified spreads over the 8 weeks before the anchor
RECENT_SHARE = 0.10  # share modified in the last 24 h, so a 12 h incremental window is non-empty
_STATUS_CUM_WEIGHTS = list(itertools.accumulate(s[2] for s in vocab.ORDER_STATUSES))
# (first, last, company, e-mail, place, writes Korean)
Person = tuple[str, str, str, str, dict, bool]


class Generator:
    """Fills a Dataset. The order of draws in `fill` is part of the determinism contract."""

    def __init__(self, rng: random.Random, anchor_ts: int, size: DatasetSize) -> None:
        self.rng, self.anchor_ts, self.size = rng, anchor_ts, size
        self.catalog: list[tuple[dict, list[dict]]] = []
        self.people: dict[int, Person] = {}
        self.line_ids = 0
        self.line_units: dict[tuple[int, bool], tuple[dict, int, int]] = {}  # generator_orders

    def fill(self, data: Dataset) -> None:
        self.data = data
        recent = self._recent_positions(self.size.products)
        for product_id in range(1, self.size.products + 1):
            generator_catalog.product(self, product_id, recent.get(product_id - 1))
        recent = self._recent_positions(self.size.customers)
        for customer_id in range(1, self.size.customers + 1):
            self._customer(customer_id, recent.get(customer_id - 1))
        recent = self._recent_positions(self.size.orders)
        for n, order_id in enumerate(range(100, 100 + self.size.orders)):  # stores start at 100
            generator_orders.order(self, order_id, recent.get(n))

    def _recent_positions(self, count: int) -> dict[int, int]:
        """Which records (by position) were modified in the last day, and how many seconds ago.

        Exactly RECENT_SHARE of them (at least one), the first within the last 12 hours, so an
        incremental run over the default 12-hour window always has something to fetch.
        """
        chosen = self.rng.sample(range(count), max(1, round(count * RECENT_SHARE))) if count else []
        return {pos: self.rng.randrange(1, DAY // 2 if i == 0 else DAY)
                for i, pos in enumerate(chosen)}

    def dates(self, max_age_days: int, seconds_ago: int | None) -> tuple[int, int]:
        """(date_created, date_modified): modified `seconds_ago`, else 1 day to 8 weeks ago."""
        if seconds_ago is None:
            seconds_ago = self.rng.randrange(DAY, HISTORY_DAYS * DAY)
        modified = self.anchor_ts - seconds_ago
        return modified - self.rng.randrange(0, max_age_days * DAY), modified

    def person(self) -> Person:
        """A customer or a guest; 65% write Korean (and live in Seoul), the rest English."""
        rng = self.rng
        if rng.random() < 0.65:
            last, last_r = rng.choice(vocab.KO_SURNAMES)
            first, first_r = rng.choice(vocab.KO_GIVEN)
            local, domains, korean = f"{first_r}.{last_r}", vocab.KO_MAIL_DOMAINS, True
        else:
            first, last = rng.choice(vocab.EN_FIRST), rng.choice(vocab.EN_LAST)
            local, domains, korean = f"{first}.{last}".lower(), vocab.EN_MAIL_DOMAINS, False
        return (first, last, rng.choice(vocab.COMPANIES), f"{local}@{rng.choice(domains)}",
                self._place(korean or rng.random() < 0.5), korean)

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
        first, last, company, email, place, korean = self.person()
        email = email.replace("@", f"{cid}@")  # the store enforces unique e-mails
        created, modified = self.dates(2 * 365, seconds_ago)
        n_addresses = rng.choices((0, 1, 2), weights=(15, 65, 20))[0]
        places = [place, self._place(place["country_iso2"] == "KR")][:n_addresses]
        addresses = [{
            "id": cid * 10 + i, "customer_id": cid, "first_name": first, "last_name": last,
            "company": company, "address1": p["street_1"], "address2": p["street_2"],
            "city": p["city"], "state_or_province": p["state"], "postal_code": p["zip"],
            "country": p["country"], "country_code": p["country_iso2"], "phone": p["phone"],
            "address_type": "commercial" if company else "residential", "form_fields": [],
        } for i, p in enumerate(places)]
        attributes = [{"id": cid, "attribute_id": 1, "attribute_value": rng.choice(("ko", "en")),
                       "customer_id": cid, "date_created": iso8601(created),
                       "date_modified": iso8601(modified)}] if rng.random() < 0.3 else []
        self.data.customers.append({
            "id": cid, "email": email, "first_name": first, "last_name": last,
            "company": company, "phone": place["phone"], "registration_ip_address": place["ip"],
            "notes": "", "tax_exempt_category": "", "customer_group_id": rng.choice((0, 0, 1, 2)),
            "date_created": iso8601(created), "date_modified": iso8601(modified),
            "address_count": len(addresses), "attribute_count": len(attributes),
            "addresses": addresses, "attributes": attributes,
            "form_fields": [{"customer_id": cid, "name": "referral_source",
                             "value": rng.choice(("instagram", "naver_blog", "friend"))}]
            if rng.random() < 0.2 else [],
            "store_credit_amounts": [{"amount": float(rng.choice((0, 0, 0, 5000)))}],
            "accepts_product_review_abandoned_cart_emails": rng.random() < 0.6,
            "origin_channel_id": 1, "channel_ids": [1],
            # Accounts carried over from the old shop must choose a new password.
            "authentication": {"force_password_reset": rng.random() < 0.02},
        })
        self.people[cid] = (first, last, company, email, place, korean)
        if rng.random() < 0.5:
            namespace, key, values = rng.choice(vocab.METAFIELDS)
            recently = rng.random() < RECENT_SHARE  # metafields come and go: no fixed plan
            m_created, m_modified = self.dates(30, rng.randrange(1, DAY) if recently else None)
            self.data.customer_metafields.append({
                "id": len(self.data.customer_metafields) + 1, "key": key,
                "value": rng.choice(values), "namespace": namespace,
                "permission_set": rng.choice(vocab.PERMISSION_SETS),
                "description": f"{namespace}.{key}", "resource_type": "customer",
                "owner_client_id": vocab.APP_CLIENT_IDS[namespace],
                "resource_id": cid, "date_created": iso8601(m_created),
                "date_modified": iso8601(m_modified),
            })

    def order_status(self) -> tuple:
        return self.rng.choices(vocab.ORDER_STATUSES, cum_weights=_STATUS_CUM_WEIGHTS)[0]

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
