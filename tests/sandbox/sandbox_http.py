"""Plain HTTP against a running sandbox, for the sandbox's own tests (urllib: no client code)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime

from sandbox.bigcommerce import DatasetSize, FaultPlan, SandboxConfig

ANCHOR = datetime(2025, 1, 15, 12, tzinfo=UTC)
TOKEN = "test-token"
RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms",
                "X-Rate-Limit-Requests-Quota", "X-Rate-Limit-Requests-Left")


def config(size: DatasetSize, **overrides) -> SandboxConfig:
    """A sandbox whose quota (10,000 per 30 s) never gets in a test's way unless it asks."""
    settings = {"access_token": TOKEN, "size": size, "anchor": ANCHOR, "quota": 10_000}
    return SandboxConfig(**{**settings, **overrides})


def faulty(size: DatasetSize, *faults: dict, seed: int = 7, **overrides) -> SandboxConfig:
    plan = FaultPlan.from_dict({"seed": seed, "fault": list(faults)})
    return config(size, fault_plan=plan, **overrides)


def get(sandbox, path: str, token: str | None = TOKEN) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET under the store, errors included."""
    request = urllib.request.Request(sandbox.store_url + path,
                                     headers={"X-Auth-Token": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(sandbox, path: str):
    status, _, body = get(sandbox, path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def v2_pages(sandbox, path: str, limit: int, most: int = 1000) -> list[list[dict]]:
    """Pages of a v2 listing until its 204 (at most `most` pages)."""
    sep, pages = "&" if "?" in path else "?", []
    while len(pages) < most:
        status, _, body = get(sandbox, f"{path}{sep}limit={limit}&page={len(pages) + 1}")
        if status == 204:
            assert body == b"", (path, body[:100])
            break
        assert status == 200, (path, status, body[:300])
        pages.append(json.loads(body))
    return pages


def v3_pages(sandbox, path: str, limit: int, most: int = 1000) -> list[list[dict]]:
    """Pages of a v3 listing by page number, following meta.pagination (at most `most`)."""
    sep = "&" if "?" in path else "?"
    first = get_json(sandbox, f"{path}{sep}limit={limit}&page=1")
    pages = [first["data"]]
    last = min(most, first["meta"]["pagination"]["total_pages"])
    for page in range(2, last + 1):
        pages.append(get_json(sandbox, f"{path}{sep}limit={limit}&page={page}")["data"])
    return pages
