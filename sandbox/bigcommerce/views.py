"""Records as one request sees them: `include=` sub-resources, field selection, absolute links.

Fields the reference lists under `only_with_include` appear only when asked for. Those the
generator does not store (product images, options, custom fields, ...; order fees and
consignments) are derived here from the record, so they cost nothing until a request asks, and
stay consistent with the record when it changes during a read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sandbox.bigcommerce import reference
from sandbox.bigcommerce import vocabulary as vocab

CUSTOMER_INCLUDES = reference.endpoint("customers")["only_with_include"]  # field -> include
ORDER_REFERENCES = ("products", "shipping_addresses", "coupons")
IMAGE_SIZES = {"url_zoom": "1280x1280", "url_standard": "500x659", "url_thumbnail": "220x290",
               "url_tiny": "44x58"}


def customer(record: dict, include: Collection[str]) -> dict:
    """`addresses`, `attributes`, `form_fields`, `store_credit_amounts` only when included."""
    return {k: v for k, v in record.items()
            if k not in CUSTOMER_INCLUDES or CUSTOMER_INCLUDES[k] in include}


def select_fields(record: dict, include_fields: Collection[str] | None,
                  exclude_fields: Collection[str] | None) -> dict:
    """`include_fields` keeps only those fields (and `id`); `exclude_fields` drops fields."""
    if include_fields:
        record = {k: v for k, v in record.items() if k in include_fields or k == "id"}
    if exclude_fields:
        record = {k: v for k, v in record.items() if k not in exclude_fields or k == "id"}
    return record


def product(record: dict, include: Collection[str]) -> dict:
    view = {k: v for k, v in record.items() if k != "variants" or "variants" in include}
    pid = _key(record)
    if "images" in include or "primary_image" in include:
        images = _images(record)
        if "images" in include:
            view["images"] = images
        if "primary_image" in include:
            first = {k: v for k, v in images[0].items() if k != "image_url"}
            view["primary_image"] = {**first, "image_file": f"a/{pid % 1000:03d}/"
                                                             f"product-{pid}__1.jpg"}
    derived = {
        "bulk_pricing_rules": lambda: [{"id": pid, "quantity_min": 10, "quantity_max": 0,
                                        "type": "percent", "amount": 5}] if pid % 5 == 0 else [],
        "channels": lambda: [1],
        "custom_fields": lambda: [{"id": pid, "name": "원산지",
                                   "value": vocab.ORIGINS[pid % len(vocab.ORIGINS)]}],
        "modifiers": lambda: _modifiers(pid),
        "options": lambda: _options(record),
        "parent_relations": list,
        "videos": lambda: _videos(record, pid),
    }
    view.update({name: make() for name, make in derived.items() if name in include})
    return view


def _images(record: dict) -> list[dict]:
    """One or two photos per product, on BigCommerce's CDN layout."""
    pid, images = _key(record), []
    for k in range(1 + pid % 2):
        image_id = pid * 10 + k
        name = f"{pid}-{k + 1}__{image_id}.jpg"
        images.append({
            "id": image_id, "product_id": pid, "is_thumbnail": k == 0, "sort_order": k,
            "description": "", "date_modified": record["date_modified"],
            "image_url": f"{vocab.IMAGE_CDN}/product_images/{name}",
            **{key: f"{vocab.IMAGE_CDN}/images/stencil/{size}/products/{pid}/{image_id}/{name}"
               for key, size in IMAGE_SIZES.items()},
        })
    return images


def _videos(record: dict, pid: int) -> list[dict]:
    """Every sixth product has a YouTube clip."""
    if pid % 6:
        return []
    return [{"id": pid, "product_id": pid, "type": "youtube", "sort_order": 0,
             "video_id": f"sbx{pid:08d}", "title": f"{record.get('name', '')} 소개",
             "description": "", "length": "01:32"}]


def _modifiers(pid: int) -> list[dict]:
    """Every fourth product takes an optional gift message."""
    if pid % 4:
        return []
    return [{"id": pid, "product_id": pid, "name": "gift_message", "display_name": "선물 메시지",
             "type": "text", "required": False, "sort_order": 0, "option_values": [],
             "config": {"default_value": "", "text_characters_limited": True,
                        "text_min_length": 0, "text_max_length": 100}}]


def _options(record: dict) -> list[dict]:
    """The variant options, gathered from the variants' option values."""
    options: dict[int, dict] = {}
    variants = record.get("variants")
    values = [ov for v in variants if isinstance(v, dict)
              for ov in v.get("option_values") or ()] if isinstance(variants, list) else []
    for value in values:
        option = options.setdefault(value["option_id"], {
            "id": value["option_id"], "product_id": _key(record),
            "display_name": value["option_display_name"],
            "type": vocab.OPTION_STYLES[value["option_id"]][0], "sort_order": 0, "config": {},
            "option_values": []})
        option["option_values"].append({"id": value["id"], "label": value["label"],
                                        "sort_order": len(option["option_values"]),
                                        "is_default": not option["option_values"],
                                        "value_data": None})
    return list(options.values())


def order(record: dict, include: Collection[str], base: str,
          lines: Sequence[dict] | None) -> dict:
    """Reference URLs made absolute for `base`; `fees` and `consignments` when included.

    `lines` are the order's lines as `/orders/{id}/products` serves them (faults applied):
    with `consignments.line_items` the consignment embeds them whole, with `consignments` alone
    it names each by reference, as BigCommerce's reference gives the two (`reference.py`)."""
    view = {**record, **{part: {**record[part], "url": base + record[part]["url"]}
                         for part in ORDER_REFERENCES if isinstance(record.get(part), dict)}}
    if "fees" in include:
        view["fees"] = []  # this store charges no custom fees (they would enter the totals)
    if include & {"consignments", "consignments.line_items"}:
        items = (list(lines or ()) if "consignments.line_items" in include
                 else [_line_reference(base, record, line) for line in lines or ()])
        view["consignments"] = _consignments(record, items)
    return view


def _line_reference(base: str, record: Mapping, line: Mapping) -> dict:
    """A line named, not embedded (the reference's `products_Resource`)."""
    resource = f"/orders/{_key(record)}/products/{line.get('id')}"
    return {"url": f"{base}v2{resource}", "resource": resource}


def _consignments(record: dict, line_items: list[dict]) -> dict:
    """One shipping consignment to the billing address (the object structure) with every
    line: this store ships each order to one address, with no pickups or digital goods."""
    address = record.get("billing_address") or {}
    shipping: dict = {
        "id": max(0, _key(record) - 99), **{k: v for k, v in address.items() if k != "form_fields"},
        "form_fields": [], "items_total": record.get("items_total"),
        "items_shipped": record.get("items_shipped"),
        "shipping_method": "Flat Rate" if _nonzero(record, "shipping_cost_inc_tax")
        else "Free Shipping",
        "base_cost": record.get("base_shipping_cost"),
        "cost_ex_tax": record.get("shipping_cost_ex_tax"),
        "cost_inc_tax": record.get("shipping_cost_inc_tax"),
        "cost_tax": record.get("shipping_cost_tax"),
        "cost_tax_class_id": record.get("shipping_cost_tax_class_id"),
        "shipping_zone_id": 1 if address.get("country_iso2") == "KR" else 2,
        "shipping_zone_name": "대한민국" if address.get("country_iso2") == "KR"
        else "International",
        "line_items": line_items,
    }
    return {"pickups": [], "shipping": [shipping], "downloads": [],
            "email": {"gift_certificates": []}}


def _key(record: Mapping) -> int:
    """The record's id, or 0 when a fault plan dropped or retyped it (views must not fail)."""
    value = record.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _nonzero(record: Mapping, key: str) -> bool:
    value = record.get(key)
    return isinstance(value, str) and value.strip("0.-") != ""
