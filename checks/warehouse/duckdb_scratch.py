"""The scratch database of a local audit: a DuckDB file beside the staged batch.

DuckDB streams the staged Parquet and spills to disk past `MEMORY_LIMIT`, so the audit's
memory does not grow with the batch. The file is deleted when the audit ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from checks.warehouse.dialects import DUCKDB

MEMORY_LIMIT = "512MB"  # DuckDB spills past it; the memory targets are set by this figure
THREADS = 2  # the machines have 2 cores; each thread holds its own buffers


def _as_gx_connects() -> dict[str, str]:
    """DuckDB refuses a second connection to a file configured otherwise than the first, and
    GX connects through duckdb-engine, which sets this user agent; connecting as it does lets
    both stay open (GX keeps its connection for the life of its context)."""
    import duckdb_engine
    import sqlalchemy

    return {"custom_user_agent":
            f"duckdb_engine/{duckdb_engine.__version__}(sqlalchemy/{sqlalchemy.__version__})"}


class DuckDBScratch:
    """Where one batch is typed and judged locally (`checks.warehouse.audit.Scratch`)."""

    dialect = DUCKDB

    def __init__(self, staged: Path) -> None:
        self.path = staged.with_suffix(".audit.duckdb")
        self.staged = f"read_parquet({DUCKDB.literal(str(staged))})"
        self.typed = "typed"
        self.audit_rows = self.gx_table = "audit_rows"
        self.gx_schema = None
        self.bytes_processed = 0  # nothing is billed locally
        self._connection: duckdb.DuckDBPyConnection | None = None
        self.path.unlink(missing_ok=True)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self._connection = duckdb.connect(str(self.path), config=_as_gx_connects())
            for setting in (f"memory_limit = '{MEMORY_LIMIT}'",
                            f"temp_directory = {DUCKDB.literal(str(self.path) + '.tmp')}",
                            "preserve_insertion_order = false", f"threads = {THREADS}"):
                self._connection.execute(f"SET {setting}")
        return self._connection

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def one(self, sql: str) -> tuple:
        return self.connection.execute(sql).fetchone()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def rows_of(self, sql: str) -> list[int]:
        return [int(r) for r in self.connection.execute(sql).fetchnumpy()["_row"]]

    def scalars(self, sql: str) -> list[Any]:
        return [row[0] for row in self.connection.execute(sql).fetchall()]

    def ready_for_gx(self) -> None:
        self.execute("CHECKPOINT")  # GX reads the same file through its own engine

    def gx_datasource(self, context: Any, name: str) -> Any:
        from checks.warehouse.suite import keep_duckdb_connection

        keep_duckdb_connection()
        return context.data_sources.add_sql(name, connection_string=f"duckdb:///{self.path}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        for leftover in (self.path, Path(str(self.path) + ".wal")):
            leftover.unlink(missing_ok=True)
