"""What an order line is, beyond its money: the goods, options, wrapping and event fields.

Personal data on a line is what the shopper typed: `wrapping_message` (a gift note),
`configurable_fields` (text a product asks for, an engraving) and `product_options` (a "Text
field" option holds the buyer's words) are classified `free_text`. Everything else names goods.
"""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts.bigcommerce.fields import nested, text

# Barcode (UPC/EAN), empty if none.
BARCODE = r"^(?:\d{12,14})?$"


class OrderLineGoods(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=1, unique=True, description="Order line id in BigCommerce.")
    order_id: Series[int] = pa.Field(ge=1, description="Order the line belongs to.")
    product_id: Series[int] = pa.Field(ge=0, description="Catalog product (0 if custom).")
    variant_id: Series[int] = pa.Field(ge=0, description="Catalog variant (0 if custom).")
    order_address_id: Series[int] = pa.Field(
        description="Which of the order's shipping addresses the line ships to."
    )
    order_pickup_method_id: Series[int] = pa.Field(
        description="Pickup method when collected in store; 0 when shipped."
    )
    name: Series[str] = text("Product name.", str_length={"min_value": 1})
    name_customer: Series[str] = text("Product name as the shopper saw it.")
    name_merchant: Series[str] = text("Product name as the store's staff see it.")
    sku: Series[str] = text("Stock keeping unit of the variant sold.")
    upc: Series[str] = text("Barcode (UPC/EAN), empty if none.", max_length=255,
                            str_matches=BARCODE)
    bin_picking_number: Series[str] = text("Warehouse bin to pick the goods from.")
    brand: Series[str] = text("Brand name of the product.")
    type: Series[str] = pa.Field(
        isin=["physical", "digital", "giftcertificate"], description="Kind of item."
    )
    is_bundled_product: Series[bool] = pa.Field(
        description="Sold as part of a bundle (see parent_order_product_id)."
    )
    parent_order_product_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="The bundle line this line belongs to; null if sold alone."
    )
    gift_certificate_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Gift certificate the line sold; null for goods."
    )
    option_set_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Option set the product's options came from; null if none."
    )
    product_options: Series[object] = nested(
        "Options chosen, such as size, colour or a typed text (JSON array).", pii="free_text"
    )
    configurable_fields: Series[object] = nested(
        "Values the shopper entered for the product's configurable fields (JSON array).",
        pii="free_text",
    )
    weight: Series[float] = pa.Field(  # the reference allows a string or a number
        description="Weight of one unit, in the store's unit (kg).", metadata={"json": "either"})
    width: Series[float] = pa.Field(description="Width of one unit, in the store's unit (cm).")
    height: Series[float] = pa.Field(description="Height of one unit, in the store's unit (cm).")
    depth: Series[float] = pa.Field(description="Depth of one unit, in the store's unit (cm).")
    event_name: Series[str] = text(
        "Label of the event date the product asks for (a delivery date); null if none.",
        nullable=True,
    )
    event_date: Series[str] = text(
        "Event date the shopper chose (YYYY-MM-DD); null if none.", nullable=True
    )
    wrapping_id: Series[int] = pa.Field(description="Gift wrapping chosen; 0 for none.")
    wrapping_name: Series[str] = text("Name of that gift wrapping; null if none.", nullable=True)
    wrapping_message: Series[str] = text(
        "The shopper's gift message for the wrapping.", pii="free_text"
    )
    return_id: Series[int] = pa.Field(ge=0, description="Return (RMA) the line is in; 0 if none.")
    external_id: Series[str] = text(
        "The line's id in an external system (a marketplace); null if none.", nullable=True
    )
    ebay_item_id: Series[str] = text("eBay item id for lines imported from eBay.")
    ebay_transaction_id: Series[str] = text("eBay transaction id for lines imported from eBay.")
