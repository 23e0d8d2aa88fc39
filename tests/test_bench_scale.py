"""`python3 run.py bench scale`: the command runs at a tiny size and ends with its one-line
summary; the memory sampler it reads steps by sees a child's memory. No timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.scale_rss import TreeSampler

REPO = Path(__file__).resolve().parents[1]
LAST_LINE = re.compile(r"peak_rss_mb=\d+ seconds=\d+\.\d orders=\d+")


def test_the_sampler_sees_a_child_process_and_its_memory():
    # 150 MB, every page touched so that it is resident, held long enough to be sampled.
    hold = ("import time; block = bytearray(150 * 2**20); block[::4096] = b'x' * (150 * 256); "
            "time.sleep(1.5)")
    with TreeSampler(interval=0.05) as sampler:
        child = subprocess.Popen([sys.executable, "-c", hold])
        child.wait()
        time.sleep(0.1)
    assert sampler.command[child.pid].startswith(sys.executable)
    assert sampler.step_peak_mb(child.pid) >= 150
    start, end = sampler.lifetime(child.pid)
    assert end > start
    assert sampler.cpu_between(child.pid, start, end) >= 0


def test_scale_refuses_fewer_than_two_orders():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["scale", "--orders", "1"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_bench_scale_runs_both_engines_and_ends_with_the_summary_line(tmp_path):
    """The real command, as `run.py bench` starts it, at 20 orders (start-up dominates)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "scale", "--orders", "20", "--keep", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert lines[-1].endswith(" orders=20")
    rows = [line for line in lines if line.startswith("| ")]
    for engine in ("memory", "warehouse"):
        steps = {cells[2].strip() for cells in (row.split("|") for row in rows)
                 if cells[1].strip() == engine}
        assert {"src_order", "src_order_product", "transformer"} <= steps, steps
