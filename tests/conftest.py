"""Fixtures shared across test packages: the embedded PostgreSQL source, started once."""

from __future__ import annotations

import pytest

from sandbox.postgres import start_postgres


@pytest.fixture(scope="session")
def wise_postgres(tmp_path_factory):
    """The seeded `wise` database with its SELECT-only role (size matches the API sandbox)."""
    from tests.assets.support import SIZE

    sandbox = start_postgres(tmp_path_factory.mktemp("wise_pg"), size=SIZE)
    yield sandbox
    sandbox.server.cleanup()


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest():
    """The definitions need `transformer/target/manifest.json`; build it once per session."""
    from resources.transformer import prepare_manifest

    return prepare_manifest()
