"""The built-in source kinds: how a real store behaves that a clean sandbox does not.

Each runs once when the app is built (see `faults.source_fault`). Those that change records
change the dataset itself, so `running_sandbox(...).dataset` shows what is really served (the
record kinds, by contrast, only alter served copies). See docs/sandbox-fault-plan.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.bigcommerce.faults import FRACTION, Param, SourceSetup, record_key, source_fault
from sandbox.bigcommerce.formats import iso8601, money, rfc2822

if TYPE_CHECKING:
    from sandbox.bigcommerce.listing import Table

MODIFIABLE = ("customers", "customer_metafields", "orders", "products")
V2_STREAMS = frozenset({"orders", "order_products"})  # dates in RFC-2822; v3 in ISO-8601


@source_fault("shared_quota", endpoints=("*",), once=True,
              share=Param(float, minimum=0.0, maximum=0.9))
def shared_quota(params: Mapping[str, Any], setup: SourceSetup) -> None:
    """Another app on the store spends `share` of every window's quota (see ratelimit.py)."""
    setup.state.other_app_share = params["share"]


@source_fault("modify_during_read", endpoints=MODIFIABLE,
              per_request=Param(int, 1, minimum=1), after=Param(int, 1, minimum=0))
def modify_during_read(params: Mapping[str, Any], setup: SourceSetup) -> None:
    """After each answered request to the stream (from the `after`-th on; 0: also before the
    first), `per_request` of its records, drawn over the whole table, get `date_modified` =
    now. Now is rounded up to the next whole second (the wire formats carry whole seconds), so
    it lies after any bound a client took before the modification: the record moves to the end
    of a date_modified-sorted listing and leaves one bounded earlier, as in the real API."""
    stream, wire = setup.stream, rfc2822 if setup.stream in V2_STREAMS else iso8601
    modified = setup.state.modified.setdefault(stream, set())

    def modify(answered: int, table: Table) -> None:
        if answered < params["after"] or not table.records:
            return
        positions = setup.rng.sample(range(len(table.records)),
                                     min(params["per_request"], len(table.records)))
        stamp = wire(math.ceil(time.time()))
        for i in positions:  # in place: the dataset is what every later request reads
            table.records[i]["date_modified"] = stamp
            modified.add(record_key(table.records[i]))
        table.changed(positions)

    setup.state.hooks.append((stream, modify))


@source_fault("deleted_orders", endpoints=("order_products",), fraction=FRACTION)
def deleted_orders(params: Mapping[str, Any], setup: SourceSetup) -> None:
    """The chosen orders were deleted between a client's read of the orders list and its read
    of their lines: the list (read earlier) still shows them, their lines answer 404."""
    for order in setup.dataset.orders:
        if setup.unit(order["id"]) < params["fraction"]:
            setup.dataset.order_products.pop(order["id"], None)
            setup.state.deleted_orders.add(order["id"])


# ---- many_lines ---------------------------------------------------------------------------

# Totals an order raises by the lines' ex-tax, inc-tax and tax amounts.
ORDER_SUMS = (("subtotal_ex_tax", "ex"), ("subtotal_inc_tax", "inc"), ("subtotal_tax", "tax"),
              ("total_ex_tax", "ex"), ("total_inc_tax", "inc"), ("total_tax", "tax"))
CURRENCY = ("currency_code", "default_currency_code", "store_default_currency_code",
            "currency_exchange_rate", "store_default_to_transactional_exchange_rate")
ORDER_SCOPED = ("order_address_id", "order_pickup_method_id")  # fields naming the order's parts
WRAPPING = ("wrapping_cost_ex_tax", "wrapping_cost_inc_tax", "wrapping_cost_tax")


@source_fault("many_lines", endpoints=("orders",), fraction=FRACTION,
              lines=Param(int, 260, minimum=1))
def many_lines(params: Mapping[str, Any], setup: SourceSetup) -> None:
    """The chosen orders have `lines` lines. Each extra line is a copy of a plain generated
    line (not refunded, not gift-wrapped) of an order in the same currency, so every field the
    generator serves is there and its unit prices already follow the generator's money rules;
    it gets a new id and quantity 1, and the order's totals rise by exactly its amounts."""
    data = setup.dataset
    next_id = 1 + max((line["id"] for lines in data.order_products.values() for line in lines),
                      default=0)
    pools: dict[tuple, list[dict]] = {}
    for order in data.orders:
        for line in data.order_products.get(order["id"], ()):
            if _plain(line):
                pools.setdefault(_currency(order), []).append(line)
    for order in data.orders:
        lines = data.order_products.get(order["id"])
        if not lines or len(lines) >= params["lines"] \
                or setup.unit(order["id"]) >= params["fraction"]:
            continue
        pool = pools.get(_currency(order)) or lines
        shipped = all(line["quantity_shipped"] == line["quantity"] for line in lines)
        refunded = all(line["is_refunded"] for line in lines)
        extra = []
        for k in range(params["lines"] - len(lines)):
            template = pool[int(setup.unit(order["id"], k) * len(pool))]
            extra.append(_single(template, next_id + k, lines[0], shipped, refunded))
        next_id += len(extra)
        _raise_totals(order, extra, shipped, refunded)
        lines.extend(extra)
        setup.state.many_lines_orders.add(order["id"])


def _currency(order: dict) -> tuple:
    """Orders with equal currency fields price a variant identically."""
    return tuple(order.get(key) for key in CURRENCY)


def _hundredths(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def _plain(line: dict) -> bool:
    return not line["is_refunded"] and not line.get("parent_order_product_id") \
        and not any(_hundredths(line.get(key, 0)) for key in WRAPPING)


def _single(template: dict, line_id: int, own: dict, shipped: bool, refunded: bool) -> dict:
    """A copy of `template` as line `line_id` of `own`'s order, quantity 1."""
    line = {**template, "id": line_id, "order_id": own["order_id"], "quantity": 1,
            "quantity_shipped": 1 if shipped else 0, "applied_discounts": []}
    line.update({key: own[key] for key in ORDER_SCOPED if key in own and key in line})
    line.update(base_total=line["base_price"], total_ex_tax=line["price_ex_tax"],
                total_inc_tax=line["price_inc_tax"], total_tax=line["price_tax"])
    if "discounted_total_inc_tax" in line:
        line["discounted_total_inc_tax"] = line["price_inc_tax"]
    line.update(is_refunded=refunded, quantity_refunded=1 if refunded else 0,
                refund_amount=line["price_inc_tax"] if refunded else money(0))
    line["product_options"] = [{**option, "order_product_id": line_id}
                               for option in template.get("product_options", ())]
    return line


def _raise_totals(order: dict, extra: list[dict], shipped: bool, refunded: bool) -> None:
    amounts = {"ex": sum(_hundredths(line["total_ex_tax"]) for line in extra),
               "inc": sum(_hundredths(line["total_inc_tax"]) for line in extra),
               "tax": sum(_hundredths(line["total_tax"]) for line in extra)}
    for key, amount in ORDER_SUMS:
        order[key] = money(_hundredths(order[key]) + amounts[amount])
    order["items_total"] += len(extra)
    if shipped:
        order["items_shipped"] += len(extra)
    if refunded:  # a fully refunded order refunds its new lines too
        order["refunded_amount"] = money(_hundredths(order["refunded_amount"]) + amounts["inc"])
