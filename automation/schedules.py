"""Schedules, in Seoul time: the business runs on KST whatever the servers' clock says."""

import dagster as dg

from automation.jobs import create_product_notification_event, etl_pipeline, sync_customer

TIMEZONE = "Asia/Seoul"

SCHEDULES = [
    dg.ScheduleDefinition(
        name="sync_customer_daily", job=sync_customer, cron_schedule="0 2 * * *",
        execution_timezone=TIMEZONE, description="Customers at 02:00 KST, before the full run.",
    ),
    dg.ScheduleDefinition(
        name="etl_pipeline_daily", job=etl_pipeline, cron_schedule="0 3 * * *",
        execution_timezone=TIMEZONE, description="Everything at 03:00 KST.",
    ),
    dg.ScheduleDefinition(
        name="product_notification_hourly", job=create_product_notification_event,
        cron_schedule="0 * * * *", execution_timezone=TIMEZONE,
        description="Back-in-stock and on-sale notifications every hour.",
    ),
]
