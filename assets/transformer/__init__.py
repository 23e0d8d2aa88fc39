"""The dbt project as Dagster assets: translator and the `dbt build` asset."""
