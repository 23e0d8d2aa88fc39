"""Draws the catalog: v3 products, their variants, and one inventory item per variant.

Prices are whole won, VAT exclusive, and numeric (the v3 catalog returns numbers, not strings).
A variant carries its effective prices (the product's plus an upcharge), never null: the
reference declares them non-nullable. Fields the reference lists under `only_with_include`
other than `variants` are derived from the product when asked for (`views.py`), so they cost
nothing at generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.bigcommerce import vocabulary as vocab
from sandbox.bigcommerce.formats import iso8601

if TYPE_CHECKING:
    from sandbox.bigcommerce.generator import Generator

LOCATION = {"location_id": 1, "location_code": "SEOUL-1", "location_name": "서울 물류센터"}
# What every product of this store has in common: no preorders, no hidden prices, storefront
# defaults for SEO and Open Graph. Only immutable values, so records may share them.
PRODUCT_DEFAULTS = {
    "availability": "available", "availability_description": "", "condition": "New",
    "is_condition_shown": False, "fixed_cost_shipping_price": 0.0, "is_free_shipping": False,
    "gift_wrapping_options_type": "any", "gtin": "", "layout_file": "product.html",
    "map_price": 0.0, "meta_description": "", "open_graph_description": "",
    "open_graph_title": "", "open_graph_type": "product", "open_graph_use_image": True,
    "open_graph_use_meta_description": True, "open_graph_use_product_name": True,
    "option_set_display": "right", "order_quantity_maximum": 0, "order_quantity_minimum": 0,
    "page_title": "", "preorder_message": "", "preorder_release_date": None,
    "is_preorder_only": False, "is_price_hidden": False, "price_hidden_label": "",
    "product_tax_code": "", "search_keywords": "", "sort_order": 0, "tax_class_id": 0,
    "type": "physical", "warranty": "",
}


def product(g: Generator, pid: int, seconds_ago: int | None) -> None:
    """Append one product with its variants to `g.data.products` and their inventory items."""
    rng = g.rng
    (adj_ko, adj_en), (noun_ko, noun_en) = (rng.choice(vocab.PRODUCT_ADJECTIVES),
                                            rng.choice(vocab.PRODUCT_NOUNS))
    name = f"{adj_ko} {noun_ko}" if rng.random() < 0.6 else f"{adj_en} {noun_en}"
    price = rng.randrange(50, 2000) * 100  # whole won, VAT exclusive
    sale = price * rng.randrange(70, 95) // 10_000 * 100 if rng.random() < 0.2 else 0
    cost, retail = price * 6 // 1000 * 100, price * 12 // 1000 * 100
    sold_out = rng.random() < 0.1
    created, modified = g.dates(3 * 365, seconds_ago)
    count = rng.choices((1, 2, 3, 4), weights=(40, 20, 20, 20))[0]
    option_id, option_name, labels = rng.choice(vocab.OPTIONS)
    dims = {"weight": round(rng.uniform(0.1, 3.0), 2), "width": float(rng.randrange(5, 40)),
            "height": float(rng.randrange(5, 40)), "depth": float(rng.randrange(2, 20))}
    sku, warning = f"SKU-{pid:05d}", rng.randrange(3, 11)
    variants = []
    for k in range(count):
        vid = len(g.data.inventory_items) + 1
        upcharge = 2000 * k if count > 1 and option_name == "Size" else 0
        level = 0 if sold_out or rng.random() < 0.1 else rng.randrange(1, 200)
        safety, shelf = rng.randrange(0, 6), f"A-{rng.randrange(1, 40):02d}"
        variant = {
            "id": vid, "product_id": pid, "sku": f"{sku}-{labels[k]}" if count > 1 else sku,
            "sku_id": vid, "price": float(price + upcharge),
            "sale_price": float(sale + upcharge) if sale else 0.0,
            "calculated_price": float((sale or price) + upcharge),
            "retail_price": float(retail + upcharge), "cost_price": float(cost),
            "inventory_level": level, "inventory_warning_level": warning,
            "upc": f"880{rng.randrange(10**9):09d}", "bin_picking_number": shelf,
            "fixed_cost_shipping_price": 0.0, "is_free_shipping": False,
            "purchasing_disabled": False, "purchasing_disabled_message": "", **dims,
            "option_values": [{"id": option_id * 10 + k, "label": labels[k],
                               "option_id": option_id, "option_display_name": option_name}]
            if count > 1 else [],
        }
        variants.append(variant)
        g.data.inventory_items.append({
            "identity": {"sku": variant["sku"], "variant_id": vid, "product_id": pid,
                         "sku_id": vid},
            "locations": [{
                **LOCATION, "available_to_sell": max(0, level - safety),
                "total_inventory_onhand": level, "location_enabled": True,
                "settings": {"safety_stock": safety, "is_in_stock": level > safety,
                             "warning_level": warning, "bin_picking_number": shelf},
            }],
        })
    reviews = rng.choice((0, 0, 1, 3, 8, 20))
    imported = rng.random() < 0.2  # created by a CSV import rather than in the control panel
    record = {
        "id": pid, "name": f"{name} No.{pid}", "sku": sku, "description": f"<p>{name}</p>",
        **PRODUCT_DEFAULTS, **dims,
        "price": float(price), "cost_price": float(cost), "retail_price": float(retail),
        "sale_price": float(sale), "calculated_price": float(sale or price),
        "categories": sorted(rng.sample(vocab.CATEGORY_IDS, rng.randrange(1, 3))),
        "brand_id": rng.choice(tuple(vocab.BRANDS)),
        "inventory_level": sum(v["inventory_level"] for v in variants),
        "inventory_warning_level": warning,
        "inventory_tracking": "product" if count == 1 else "variant",
        "is_visible": rng.random() > 0.05, "is_featured": rng.random() < 0.1,
        "custom_url": {"url": f"/product-{pid}/", "is_customized": False,
                       "create_redirect": True},
        "date_created": iso8601(created), "date_modified": iso8601(modified),
        "date_last_imported": iso8601(created) if imported else "",
        "base_variant_id": variants[0]["id"],
        "option_set_id": option_id if count > 1 else 0,
        "upc": variants[0]["upc"] if count == 1 else "", "mpn": f"MPN-{pid:05d}",
        "bin_picking_number": variants[0]["bin_picking_number"] if count == 1 else "",
        "gift_wrapping_options_list": [], "meta_keywords": [], "related_products": [-1],
        "reviews_count": reviews, "reviews_rating_sum": reviews * rng.choice((3, 4, 4, 5)),
        "total_sold": rng.randrange(0, 500), "view_count": rng.randrange(0, 5000),
        "variants": variants,
    }
    g.data.products.append(record)
    g.catalog.append((record, variants))
