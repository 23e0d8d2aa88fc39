"""OpenLineage emission for extractions, checks and dbt models."""
