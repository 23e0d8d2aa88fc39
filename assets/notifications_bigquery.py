"""The product notification events when the warehouse is BigQuery (`BigQueryRawZone`).

The same rule as `assets.notifications` (one event per customer, product and Seoul day; back in
stock wins over on sale), written for BigQuery: a MERGE that inserts only what today does not
have yet, into `<project>.ops.product_notification_event`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from resources.bigquery.raw_zone import BigQueryRawZone

TABLE = "ops.product_notification_event"

CREATE = """
CREATE SCHEMA IF NOT EXISTS `{project}.ops`;
CREATE TABLE IF NOT EXISTS `{project}.{table}` (
    customer_id INT64 NOT NULL,
    product_id INT64 NOT NULL,
    reason STRING NOT NULL,
    event_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    run_id STRING NOT NULL
)
"""

MERGE = """
MERGE `{project}.{table}` AS known
USING (
    WITH eligible AS (
        SELECT product_id, LOGICAL_OR(is_back_in_stock) AS back_in_stock
        FROM `{project}.{inventory}`
        WHERE is_in_stock AND (is_on_sale OR is_back_in_stock)
        GROUP BY product_id
    ),
    buyers AS (
        SELECT DISTINCT items.customer_id, items.product_id
        FROM `{project}.{items}` AS items
        JOIN `{project}.{customers}` AS customers USING (customer_id)
    )
    SELECT buyers.customer_id, buyers.product_id,
           IF(eligible.back_in_stock, 'back_in_stock', 'on_sale') AS reason
    FROM buyers JOIN eligible USING (product_id)
) AS fresh
ON known.customer_id = fresh.customer_id AND known.product_id = fresh.product_id
   AND known.event_date = DATE '{event_date}'
WHEN NOT MATCHED THEN INSERT (customer_id, product_id, reason, event_date, created_at, run_id)
VALUES (fresh.customer_id, fresh.product_id, fresh.reason, DATE '{event_date}',
        CURRENT_TIMESTAMP(), '{run_id}')
"""


def write_events(zone: BigQueryRawZone, relations: dict[str, str], event_date: date,
                 run_id: str) -> tuple[int, int, dict[str, int]]:
    """(inserted now, events today, today's events by reason). `relations` name the upstream
    models as `dataset.table`."""
    client = zone.bigquery.warehouse.client
    names = {"project": zone.settings.project, "table": TABLE, **relations,
             "event_date": event_date.isoformat(), "run_id": run_id.replace("'", "")}
    client.query(CREATE.format(**names)).result()
    before = _today(client, names)
    client.query(MERGE.format(**names)).result()
    by_reason = _today(client, names)
    today = sum(by_reason.values())
    return today - sum(before.values()), today, by_reason


def _today(client: Any, names: dict[str, str]) -> dict[str, int]:
    rows = client.query(
        f"SELECT reason, COUNT(*) FROM `{names['project']}.{names['table']}` "
        f"WHERE event_date = DATE '{names['event_date']}' GROUP BY reason").result()
    return {row[0]: int(row[1]) for row in rows}


