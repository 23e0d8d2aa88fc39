"""Product notification events: tell past buyers when a product is back in stock or on sale.

One row per customer, product and day (Asia/Seoul): running the job again the same day adds
nothing, and a product both back in stock and on sale is announced once, as back in stock.
The events land in `ops.product_notification_event` in the warehouse, for the messaging system
to pick up.
"""

# No `from __future__ import annotations`: Dagster reads the asset function's annotations.
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from assets.notifications_bigquery import write_events
from assets.transformer.metadata import model_relation
from resources.bigquery.raw_zone import BigQueryRawZone
from resources.raw_zone import RawZoneResource, warehouse_lock
from resources.transformer import manifest_path

SEOUL = ZoneInfo("Asia/Seoul")
UPSTREAM_MODELS = ("fct_onsale_product_inventory", "fct_order_item", "dim_customer")

CREATE = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.product_notification_event (
    customer_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    event_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (customer_id, product_id, event_date)
);
"""

INSERT = """
INSERT INTO ops.product_notification_event
WITH eligible AS (
    SELECT product_id, bool_or(is_back_in_stock) AS back_in_stock
    FROM {inventory}
    WHERE is_in_stock AND (is_on_sale OR is_back_in_stock)
    GROUP BY product_id
),
buyers AS (
    SELECT DISTINCT items.customer_id, items.product_id
    FROM {items} AS items
    JOIN {customers} AS customers USING (customer_id)
)
SELECT buyers.customer_id, buyers.product_id,
       CASE WHEN eligible.back_in_stock THEN 'back_in_stock' ELSE 'on_sale' END,
       $event_date, now(), $run_id
FROM buyers JOIN eligible USING (product_id)
ON CONFLICT DO NOTHING
"""


def _relations() -> dict[str, str]:
    """The warehouse relation of each upstream model, as dbt named it."""
    manifest = json.loads(manifest_path().read_text())
    by_name = {n["name"]: model_relation(n) for n in manifest["nodes"].values()
               if n["resource_type"] == "model"}
    return {"inventory": by_name[UPSTREAM_MODELS[0]], "items": by_name[UPSTREAM_MODELS[1]],
            "customers": by_name[UPSTREAM_MODELS[2]]}


@dg.asset(
    name="op_product_notification_event",
    group_name="product",
    owners=["team:crm"],
    kinds={"python", "duckdb"},
    deps=list(UPSTREAM_MODELS),
    description="One event per past buyer of a product now back in stock or on sale, per day.",
)
def op_product_notification_event(
    context: dg.AssetExecutionContext, raw_zone: RawZoneResource
) -> dg.MaterializeResult:
    event_date = datetime.now(SEOUL).date()
    zone = raw_zone.zone()
    if isinstance(zone, BigQueryRawZone):
        relations = {k: v.replace('"', "") for k, v in _relations().items()}  # dataset.table
        inserted, today, by_reason = write_events(zone, relations, event_date,
                                                  context.run.run_id)
        return _result(context, event_date, inserted, today, by_reason)
    import duckdb  # the step's: the code location loads without it

    warehouse = Path(raw_zone.warehouse)
    with warehouse_lock(warehouse):
        connection = duckdb.connect(str(warehouse))
        try:
            connection.execute(CREATE)
            inserted = connection.execute(
                INSERT.format(**_relations()),
                {"event_date": event_date, "run_id": context.run.run_id},
            ).fetchone()[0]
            today, reasons = connection.execute(
                "SELECT count(*), to_json(histogram(reason)) FROM ops.product_notification_event "
                "WHERE event_date = ?", [event_date]
            ).fetchone()
        finally:
            connection.close()
    return _result(context, event_date, inserted, today, json.loads(reasons) if reasons else {})


def _result(context: dg.AssetExecutionContext, event_date: date, inserted: int, today: int,
            by_reason: dict[str, int]) -> dg.MaterializeResult:
    context.log.info(f"{inserted} new notification events for {event_date}; {today} in all today")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": today,
            "inserted": inserted,
            "already_notified_today": today - inserted,
            "event_date": str(event_date),
            "by_reason": by_reason,
            "table": "ops.product_notification_event",
        }
    )
