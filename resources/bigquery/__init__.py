"""The raw zone in BigQuery (`GOV_ENV=prod`): a staged batch loaded into a per-batch staging
table, audited there, published with its quarantine in one transaction (docs/bigquery.md).

Importing this package does not import the BigQuery client (about a second): only using it does.
"""

from resources.bigquery.errors import BigQueryError
from resources.bigquery.load import StagedFiles, StagedLoad, StagedTable
from resources.bigquery.publish import Published
from resources.bigquery.settings import BigQuerySettings, Names
from resources.bigquery.warehouse import JobCost, Warehouse
from resources.bigquery.zone import BigQueryZone

__all__ = ["BigQueryError", "BigQuerySettings", "BigQueryZone", "JobCost", "Names", "Published",
           "StagedFiles", "StagedLoad", "StagedTable", "Warehouse"]
