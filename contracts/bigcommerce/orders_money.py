"""The money fields of a v2 order, and the currencies they are in (see `orders.py`).

Every amount of an order is in its **transactional** currency, `default_currency_code`: the
one the shopper paid in. `currency_code` is only the *display* currency the storefront showed,
and `currency_exchange_rate` converts the store's currency to it (always 1 through v2): it
never converts an amount. The store's own currency is `store_default_currency_code` (KRW), and
`store_default_to_transactional_exchange_rate` is units of the transactional currency per unit
of it, so an amount in KRW is amount / that rate (1 when the order is in KRW).

v2 sends money as 4-decimal strings, which the audit frame reads exactly (through `Decimal`).
"""

import pandera.pandas as pa
from pandera.typing import Series

from contracts.bigcommerce.fields import money
from contracts.rules import CURRENCIES

# The store reports revenue in won; every `_krw` figure in the marts converts to it.
STORE_CURRENCY = "KRW"


def _amount(what: str) -> pa.Field:
    return money(f"{what}, in the transactional currency.")


class OrderMoney(pa.DataFrameModel):
    default_currency_code: Series[str] = pa.Field(
        isin=CURRENCIES,
        description="Transactional currency: the one the buyer paid in; every amount is in it.",
    )
    default_currency_id: Series[int] = pa.Field(
        description="The store's id for the transactional currency."
    )
    currency_code: Series[str] = pa.Field(
        isin=CURRENCIES,
        description="Display currency the storefront showed the buyer; not the amounts' one.",
    )
    currency_id: Series[int] = pa.Field(description="The store's id for the display currency.")
    currency_exchange_rate: Series[float] = pa.Field(
        gt=0, description="Store currency to display currency (1 via v2); converts no amount."
    )
    store_default_currency_code: Series[str] = pa.Field(
        isin=[STORE_CURRENCY],
        description="The store's own currency (KRW), in which revenue is reported.",
    )
    store_default_to_transactional_exchange_rate: Series[float] = pa.Field(
        gt=0,
        description="Transactional currency per unit of the store's (1 for KRW orders); "
        "KRW = amount / rate.",
    )
    is_tax_inclusive_pricing: Series[bool] = pa.Field(
        description="Prices were entered with tax included (decides how ex-tax is derived)."
    )
    subtotal_ex_tax: Series[float] = _amount("Items before tax and discount")
    subtotal_inc_tax: Series[float] = _amount("Items with tax, before discount")
    subtotal_tax: Series[float] = _amount("Tax on the items (10% VAT)")
    base_shipping_cost: Series[float] = _amount("Shipping as quoted, before tax adjustments")
    shipping_cost_ex_tax: Series[float] = _amount("Shipping before tax")
    shipping_cost_inc_tax: Series[float] = _amount("Shipping with tax")
    shipping_cost_tax: Series[float] = _amount("Tax on shipping (the store taxes none)")
    shipping_cost_tax_class_id: Series[int] = pa.Field(
        description="Tax class applied to shipping."
    )
    base_handling_cost: Series[float] = _amount("Handling fee as set, before tax adjustments")
    handling_cost_ex_tax: Series[float] = _amount("Handling fee before tax")
    handling_cost_inc_tax: Series[float] = _amount("Handling fee with tax")
    handling_cost_tax: Series[float] = _amount("Tax on the handling fee")
    handling_cost_tax_class_id: Series[int] = pa.Field(
        description="Tax class applied to the handling fee."
    )
    base_wrapping_cost: Series[float] = _amount("Gift wrapping as priced, before tax adjustments")
    wrapping_cost_ex_tax: Series[float] = _amount("Gift wrapping before tax")
    wrapping_cost_inc_tax: Series[float] = _amount("Gift wrapping with tax")
    wrapping_cost_tax: Series[float] = _amount("Tax on gift wrapping")
    wrapping_cost_tax_class_id: Series[int] = pa.Field(
        description="Tax class applied to gift wrapping."
    )
    discount_amount: Series[float] = _amount("All discounts, taken off the ex-tax amount")
    coupon_discount: Series[float] = _amount("The part of the discount that came from coupons")
    total_ex_tax: Series[float] = _amount("Order total before tax")
    total_tax: Series[float] = _amount("All tax on the order")
    total_inc_tax: Series[float] = _amount("What the buyer pays: the order total with tax")
    gift_certificate_amount: Series[float] = _amount("Part of the total paid by gift certificate")
    store_credit_amount: Series[float] = _amount("Part of the total paid with store credit")
    refunded_amount: Series[float] = _amount("Amount refunded so far")
