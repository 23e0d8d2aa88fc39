"""The audits run as SQL in the warehouse the batch lands in: see `checks.warehouse.audit`."""
