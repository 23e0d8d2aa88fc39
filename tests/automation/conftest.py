"""Fixtures of the alerting tests: a temporary persistent instance and an outbox path."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "alerts" / "outbox.jsonl"
