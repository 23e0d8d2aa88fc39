"""`dbt build` on the local DuckDB target at three data sizes, ten times apart.

The raw zone is filled straight from the sandboxes' generators (the sandbox API's dataset
published through the raw zone, PostgreSQL read through the read-only resource), so the figures
are dbt's alone. Each size is built cold, then the start-up cost is measured by a `dbt build`
that selects nothing: wall time minus that is the models' and tests' own work.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from benchmarks.report import table
from resources.postgres import PostgresResource
from resources.raw_zone import RawZone
from resources.transformer import TRANSFORMER_DIR, dbt_executable, prepare_manifest
from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.postgres import start_postgres, stop_postgres
from sandbox.postgres_seed import default_anchor
from sandbox.raw_zone_fill import SPECS, stage_records

SIZES = (200, 2_000, 20_000)


def _publish(zone: RawZone, name: str, records, modified_at=None) -> int:
    batch = stage_records(zone, name, records, "benchmark", modified_at)
    zone.publish(batch)
    return batch.rows


def fill_raw_zone(folder: Path, size: int) -> int:
    """Publish every source table for `size` customers; returns the raw rows published."""
    zone = RawZone(folder / "raw", folder / "warehouse.duckdb")
    data = Dataset.generate(42, DatasetSize.scaled(size), default_anchor())
    order_time = {}
    rows = _publish(zone, "src_order", data.orders)
    with zone.reader([SPECS["src_order"].ref]) as db:
        order_time = dict(db.execute("SELECT _pk, _modified_at FROM raw_bigcommerce.orders")
                          .fetchall())
    items = [item for lines in data.order_products.values() for item in lines]
    rows += _publish(zone, "src_order_product", items, lambda r: order_time[r["order_id"]])
    rows += _publish(zone, "src_customer", data.customers)
    rows += _publish(zone, "src_customer_metafields", data.customer_metafields)
    rows += _publish(zone, "src_product", data.products)
    on_sale = {p["id"] for p in data.products if (p["sale_price"] or 0) > 0}
    rows += _publish(zone, "bigcommerce_onsale_product_inventory",
                     [i for i in data.inventory_items if i["identity"]["product_id"] in on_sale])
    postgres = start_postgres(folder / "pg", size=size)
    source = PostgresResource(url=postgres.reader_url)
    for name, source_table in (("src_point_transaction", "point_transaction"),
                               ("src_quotation", "quotation")):
        rows += _publish(zone, name, (r for chunk in source.stream_table(source_table)
                                      for r in chunk))
    stop_postgres(folder / "pg")
    return rows


def _dbt(folder: Path, *args: str) -> tuple[float, dict]:
    env = {**os.environ, "GOV_WAREHOUSE_PATH": str(folder / "warehouse.duckdb")}
    target = folder / "dbt-target"
    started = time.monotonic()
    subprocess.run([dbt_executable(), *args, "--project-dir", str(TRANSFORMER_DIR),
                    "--profiles-dir", str(TRANSFORMER_DIR), "--target-path", str(target)],
                   env=env, check=True, capture_output=True, cwd=TRANSFORMER_DIR)
    seconds = time.monotonic() - started
    return seconds, json.loads((target / "run_results.json").read_text())


def _model_rows(folder: Path) -> int:
    import duckdb

    connection = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = 'analytics' AND table_type = 'BASE TABLE'").fetchall()
        return sum(connection.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
                   for s, t in tables)
    finally:
        connection.close()


def run(folder: Path) -> str:
    prepare_manifest()
    rows = []
    for size in SIZES:
        workdir = folder / str(size)
        workdir.mkdir()
        print(f"  publishing the raw zone for {size:,} customers …", flush=True)
        raw_rows = fill_raw_zone(workdir, size)
        print(f"  dbt build at {size:,} …", flush=True)
        wall, results = _dbt(workdir, "build")
        startup, _ = _dbt(workdir, "build", "--select", "tag:no_such_tag")
        sql_s = sum(r["execution_time"] for r in results["results"])
        built = _model_rows(workdir)
        rows.append([f"{size:,}", f"{raw_rows:,}", f"{built:,}", len(results["results"]),
                     f"{wall:.1f}", f"{startup:.1f}", f"{wall - startup:.1f}", f"{sql_s:.1f}",
                     f"{built / wall:,.0f}"])
    header = ["customers", "raw rows", "rows in tables built", "nodes", "dbt build s",
              "start-up s (empty build)", "work s (build - start-up)", "sum of node s",
              "rows built/s"]
    return table(header, rows)
