"""The steward's pages in a real browser: Debian's chromium, driven by Playwright.

One main run with malformed customer e-mails (3% quarantined, and dbt's relationship tests
downstream fail on the orders of those customers), then `python3 run.py ui` as the README says,
with nothing on PATH but the system's. Every assertion reads the page's text as it renders,
without a click: what a steward sees when they open the link an alert gives them. No customer
e-mail, phone or name may appear anywhere on any page, in its text or its HTML.

The screenshots in docs/images/steward/ come from here:
`UPDATE_SCREENSHOTS=1 python3 run.py test tests/ui` rewrites them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from resources.environment import REPO_ROOT
from tests.test_main_job import BAD_EMAILS, personal_data, run_main

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO_ROOT / "docs" / "images" / "steward"
SIZE = 40  # personal_data() and run_main() agree on it
DBT_CHECK = ("fct_order", "relationships_fct_order_customer_id__customer_id__ref_dim_customer_")
LOADED = '{"query": "{workspaceOrError{... on Workspace{locationEntries{name loadStatus}}}}"}'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _loaded(base: str) -> bool:
    request = urllib.request.Request(f"{base}/graphql", data=LOADED.encode(),
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            entries = json.loads(answer.read())["data"]["workspaceOrError"]["locationEntries"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return [entry["loadStatus"] for entry in entries] == ["LOADED"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """(base URL, run id, data folder) of a UI serving one quarantining main run."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium first (.ci/run does)")
        pytest.skip("no /usr/bin/chromium: `apt-get install chromium` to run the UI tests")
    data_dir = tmp_path_factory.mktemp("ui") / "data"
    token = f"sandbox-secret-{uuid.uuid4().hex}"
    done = run_main(data_dir, token, "--fault-plan", str(BAD_EMAILS))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_id = done.stdout.rsplit("run ", 1)[1].split(":", 1)[0]
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
           "GOV_DATA_DIR": str(data_dir)}
    log = (data_dir / "ui.log").open("w")
    server = subprocess.Popen(["python3", "run.py", "ui", "--port", str(port)], cwd=REPO_ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while not _loaded(base):
            assert server.poll() is None, (data_dir / "ui.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the code location did not load in 10 minutes"
            time.sleep(2)
        yield base, run_id, data_dir
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser, url: str, ready: str, shot: str) -> tuple[str, str, list[str]]:
    """(text, html, table cells) of a page once `ready` shows; a screenshot for the guide."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        page.get_by_text(ready, exact=False).first.wait_for(timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        text, html = page.inner_text("body"), page.content()
        cells = [cell.strip() for cell in page.locator("td").all_inner_texts()]
        if os.environ.get("UPDATE_SCREENSHOTS"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        return text, html, cells
    finally:
        page.close()


def _no_personal_data(*pages: str) -> None:
    shown = "\n".join(pages)
    for value in personal_data(SIZE):
        assert value not in shown, f"personal data on a page: {value!r}"


def test_an_extraction_check_shows_its_rules_sample_and_verdict_inline(ui, browser):
    base, _, _ = ui
    text, html, cells = _open(browser, f"{base}/assets/src_customer?view=checks"
                              "&checkDetail=schema_contract", "rows_audited", "extraction-check")
    # The description: one sentence saying what happened and what it did to the batch.
    assert re.search(r"\d+ of \d+ rows of bigcommerce\.customers broke \d+ rules?; they were "
                     r"quarantined and the other \d+ published\.", text)
    # The rules table and the failing sample render as tables, no click: their cells are there.
    email_rule = next(cell for cell in cells if cell.startswith("str_matches"))
    assert cells.count(email_rule) == 2  # once in the rules, once in the sample
    assert "email" in cells and "row" in cells
    masked = [cell for cell in cells if "@" in cell and set(cell) <= set("x9.@ -_+")]
    assert len(masked) >= 2  # the rule's example and the sample's value, by shape only
    assert "Show Markdown" not in text and "[{" not in text  # no click, no raw JSON
    assert any(cell.startswith("SELECT * FROM quarantine.bigcommerce__customers")
               for cell in cells)
    assert any(cell.endswith(".parquet") for cell in cells)  # the quarantine file's path
    _no_personal_data(text, html)


def test_a_dbt_check_explains_itself_with_a_masked_sample(ui, browser):
    base, _, _ = ui
    asset, check = DBT_CHECK
    text, html, cells = _open(browser, f"{base}/assets/{asset}?view=checks&checkDetail={check}",
                              "upstream_quarantine", "dbt-check")
    assert "No description provided" not in text
    assert "every fct_order.customer_id exists in dim_customer.customer_id" in text
    assert "failing_sample" in cells and "rows_failing" in cells
    # The failing order's customer was quarantined upstream: the query that lists it.
    assert any(cell.startswith("SELECT * FROM quarantine.bigcommerce__customers WHERE")
               for cell in cells)
    _no_personal_data(text, html)


def test_the_runs_page_names_every_failed_check_with_its_owner(ui, browser):
    base, run_id, _ = ui
    text, html, _ = _open(browser, f"{base}/runs/{run_id}", "RUN_SUCCESS", "run")
    flat = " ".join(text.split())
    assert re.search(r"Rows quarantined: src_customer · schema_contract: \d+ rows? failing · "
                     r"owner team:crm", flat)
    assert re.search(r"Check failed \(warning\): fct_order · relationships_fct_order_customer_id"
                     r"\S* \d+ rows? failing · owner team:commerce", flat)
    _no_personal_data(text, html)
