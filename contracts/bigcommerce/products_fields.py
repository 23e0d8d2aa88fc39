"""How a product is listed and sold, beyond its identity, prices and stock (see `products.py`):
identifiers, dimensions, storefront and search texts, sharing, pre-orders, purchase limits.

Nothing here is personal: every field describes goods or how the shop presents them.
Bounds (maxLength, minimum, maximum) are the reference's, so a value outside them is one the
real API would have refused to store.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.bigcommerce.fields import INT32_MAX, INT32_MIN, money, nested, text, v3_time

# The reference's ceiling for dimensions and weight.
MAX_SIZE = 9_999_999_999
OPEN_GRAPH_TYPES = ["product", "album", "book", "drink", "food", "game", "movie", "song",
                    "tv_show"]


def _size(description: str) -> pa.Field:
    return pa.Field(ge=0, le=MAX_SIZE, description=description)


def _count(description: str, maximum: int = 1_000_000_000) -> pa.Field:
    return pa.Field(ge=0, le=maximum, description=description)


class ProductListing(pa.DataFrameModel):
    upc: Series[str] = text("Barcode (UPC), empty if none.", max_length=14)
    gtin: Series[str] = text("Global Trade Item Number, empty if none.", max_length=14)
    mpn: Series[str] = text("Manufacturer part number, empty if none.")
    bin_picking_number: Series[str] = text("Warehouse bin the goods are picked from.",
                                           max_length=255)
    width: Series[float] = _size("Shipping width, in the store's unit (cm).")
    height: Series[float] = _size("Shipping height, in the store's unit (cm).")
    depth: Series[float] = _size("Shipping depth, in the store's unit (cm).")
    is_free_shipping: Series[bool] = pa.Field(description="Ships free of charge.")
    fixed_cost_shipping_price: Series[float] = money(
        "Fixed shipping charge per unit (KRW); 0 if the usual rates apply."
    )
    map_price: Series[float] = money("Minimum advertised price (KRW); 0 if none.")
    tax_class_id: Series[int] = pa.Field(ge=0, le=255, description="Tax class (0 = default).")
    product_tax_code: Series[str] = text(
        "Tax code for an external tax service; empty if none.", max_length=255
    )
    is_price_hidden: Series[bool] = pa.Field(description="The price is hidden on the storefront.")
    price_hidden_label: Series[str] = text(
        "What the storefront shows instead of a hidden price.", max_length=200
    )
    is_condition_shown: Series[bool] = pa.Field(description="The condition is shown to shoppers.")
    availability_description: Series[str] = text(
        "Availability text shown to shoppers (ships in 2 days).", max_length=255
    )
    order_quantity_minimum: Series[int] = _count("Fewest units per order; 0 = no limit.")
    order_quantity_maximum: Series[int] = _count("Most units per order; 0 = no limit.")
    is_preorder_only: Series[bool] = pa.Field(description="Can only be pre-ordered.")
    preorder_release_date: Series[pd.DatetimeTZDtype] = v3_time(
        "When pre-ordered goods are released (UTC); null if not a pre-order.", nullable=True
    )
    preorder_message: Series[str] = text("Pre-order text shown to shoppers.", max_length=255)
    gift_wrapping_options_type: Series[str] = pa.Field(
        isin=["any", "none", "list"],
        description="Which gift wrappings it allows: any, none, or those listed.",
    )
    gift_wrapping_options_list: Series[object] = nested(
        "Gift wrapping ids allowed when the type is list (JSON array)."
    )
    related_products: Series[object] = nested(
        "Products shown as related (JSON array of ids; [-1] = chosen automatically)."
    )
    sort_order: Series[int] = pa.Field(
        ge=INT32_MIN, le=INT32_MAX, description="Position in category listings (lowest first)."
    )
    option_set_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Option set that defines its options; null if none."
    )
    option_set_display: Series[str] = text("Where the options show on the page (right).")
    layout_file: Series[str] = text("Storefront template for its page.", max_length=500)
    page_title: Series[str] = text("Title of its page (SEO); empty for the name.",
                                   max_length=255)
    meta_description: Series[str] = text("Page description for search engines.",
                                         max_length=65_535)
    meta_keywords: Series[object] = nested("Page keywords for search engines (JSON array).")
    search_keywords: Series[str] = text("Extra words the store search finds it by.",
                                        max_length=65_535)
    warranty: Series[str] = text("Warranty text shown on its page.", max_length=65_535)
    open_graph_type: Series[str] = pa.Field(
        isin=OPEN_GRAPH_TYPES, description="Kind of object when shared (Open Graph)."
    )
    open_graph_title: Series[str] = text("Title when shared on social media.")
    open_graph_description: Series[str] = text("Description when shared on social media.")
    open_graph_use_meta_description: Series[bool] = pa.Field(
        description="Shares use the meta description."
    )
    open_graph_use_product_name: Series[bool] = pa.Field(
        description="Shares use the product name as title."
    )
    open_graph_use_image: Series[bool] = pa.Field(description="Shares show the main image.")
    reviews_count: Series[int] = pa.Field(ge=0, description="Number of shopper reviews.")
    reviews_rating_sum: Series[int] = pa.Field(
        ge=0, description="Sum of review ratings (average = sum / count)."
    )
    view_count: Series[int] = _count("Times its page was viewed.")
    date_last_imported: Series[str] = text("When it was last imported from a file; empty if never.")
