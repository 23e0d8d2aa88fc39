"""Shared set-up for the asset tests: resources over the sandboxes, and ground-truth counts."""

from __future__ import annotations

from pathlib import Path

import psycopg

from assets import EXTRACTION_SPECS
from resources.bigcommerce import BigCommerceResource
from resources.lineage import LineageResource
from resources.postgres import PostgresResource
from resources.raw_zone import RawZone, RawZoneResource, TableRef
from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.faults import FaultPlan

SIZE = 60
TOKEN = "asset-test-token"


def sandbox_config(faults: list[dict] | None = None, **overrides) -> SandboxConfig:
    plan = FaultPlan.from_dict({"seed": 11, "fault": faults or []})
    options = {"size": DatasetSize.scaled(SIZE), "quota": 150, "window_ms": 1_000}
    return SandboxConfig(access_token=TOKEN, fault_plan=plan, **{**options, **overrides})


def extraction_resources(api, wise_postgres, data_dir: Path) -> dict:
    return {
        "bigcommerce": BigCommerceResource(
            store_hash=api.store_hash, access_token=api.access_token, base_url=api.base_url
        ),
        "wise_postgres": PostgresResource(url=wise_postgres.reader_url),
        "raw_zone": RawZoneResource(
            root=str(data_dir / "raw"), warehouse=str(data_dir / "warehouse.duckdb")
        ),
        "lineage": LineageResource(file_path=str(lineage_file(data_dir))),
    }


def lineage_file(data_dir: Path) -> Path:
    """Where the test resources write lineage events (JSON lines)."""
    return data_dir / "lineage" / "events.jsonl"


def zone_ref(name: str) -> TableRef:
    return next(spec.ref for spec in EXTRACTION_SPECS if spec.name == name)


def expected_counts(dataset, wise_postgres) -> dict[str, tuple[int, int]]:
    """Each table's record count in the sources, as (rows, distinct keys)."""
    on_sale = [p for p in dataset.products if float(p.get("sale_price") or 0) > 0]
    with psycopg.connect(wise_postgres.admin_url) as connection:
        points, quotations = (
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("point_transaction", "quotation")
        )
    counts = {
        "src_customer": len(dataset.customers),
        "src_customer_metafields": len(dataset.customer_metafields),
        "src_order": len(dataset.orders),
        "src_order_product": sum(len(items) for items in dataset.order_products.values()),
        "src_product": len(dataset.products),
        "bigcommerce_onsale_product_inventory": sum(len(p["variants"]) for p in on_sale),
        "src_point_transaction": points,
        "src_quotation": quotations,
    }
    return {name: (n, n) for name, n in counts.items()}


def published_counts(zone: RawZone) -> dict[str, tuple[int, int]]:
    """Each published table's (rows, distinct keys): equal pairs mean no duplicate."""
    counts = {}
    published = [spec for spec in EXTRACTION_SPECS if zone.paths.has_batches(spec.ref)]
    with zone.reader([spec.ref for spec in published]) as db:
        for spec in published:
            counts[spec.name] = db.execute(
                f"SELECT count(*), count(DISTINCT _pk) FROM {spec.ref.schema}.{spec.ref.table}"
            ).fetchone()
    return counts


def pipeline_resources(api, wise_postgres, data_dir: Path) -> dict:
    """Extraction resources plus dbt on the same warehouse."""
    from resources.dbt_cli import transformer_cli

    return {
        **extraction_resources(api, wise_postgres, data_dir),
        "dbt": transformer_cli("local"),
    }
