"""`python -m cli <command>`: what `run.py` calls once the virtual environment is ready."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from resources.environment import DataDir
from sandbox import services


def _sandbox_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        type=int,
        default=200,
        help="customers in the sandbox (orders are twice that); default 200",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--fault-plan",
        type=Path,
        default=None,
        help="TOML fault plan for the sandbox API (docs/sandbox-fault-plan.md)",
    )
    parser.add_argument("--quota", type=int, default=150, help="requests per window")
    parser.add_argument(
        "--window-ms",
        type=int,
        default=3_000,
        help="quota window; BigCommerce's real one is 30000 (default: 3000, "
        "the real quota compressed 10x so local runs stay short)",
    )


def _options(args: argparse.Namespace) -> services.SandboxOptions:
    return services.SandboxOptions(
        size=args.size,
        seed=args.seed,
        quota=args.quota,
        window_ms=args.window_ms,
        fault_plan=args.fault_plan,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="run.py")
    commands = parser.add_subparsers(dest="command", required=True)
    main_job = commands.add_parser("main", help="run etl_pipeline end to end on the sandbox")
    _sandbox_options(main_job)
    main_job.add_argument("--hours-lookback", type=int, default=12)
    main_job.add_argument(
        "--warehouse",
        choices=["duckdb", "bigquery-emulator"],
        default="duckdb",
        help="where the raw zone, the audits and dbt run: the local DuckDB (default) or "
        "BigQuery's API served by a local emulator, started and stopped by the command",
    )
    main_job.add_argument("--full-refresh", action="store_true")
    main_job.add_argument(
        "--max-concurrent",
        type=int,
        default=4,
        help="steps running at once (the multiprocess executor)",
    )
    ui = commands.add_parser("ui", help="dagster dev on the data folder's instance, port 3000")
    _sandbox_options(ui)
    ui.add_argument("--port", type=int, default=3000)
    sandbox = commands.add_parser("sandbox", help="start|stop|status of the embedded stand-ins")
    sandbox.add_argument("action", choices=["start", "stop", "status"])
    _sandbox_options(sandbox)
    emulator = commands.add_parser("bqemulator", help="start|stop|status of the BigQuery emulator")
    emulator.add_argument("action", choices=["start", "stop", "status"])
    emulator.add_argument("--project", default="local-project", help="its project id")
    lineage_api = commands.add_parser("marquez", help="start|stop|status of the Marquez API")
    lineage_api.add_argument("action", choices=["start", "stop", "status"])
    lineage_api.add_argument("--port", type=int, default=5000, help="API port (default 5000)")
    lineage_api.add_argument("--admin-port", type=int, default=5001,
                             help="admin port, /healthcheck (default 5001)")
    commands.add_parser("prepare", help="build the dbt manifest (dbt parse) and the asset specs "
                        "kept beside it, if stale")
    contracts = commands.add_parser(
        "contracts", help="regenerate the dbt sources files from the contracts"
    )
    contracts.add_argument(
        "--check", action="store_true", help="only report drift (exit 1), write nothing"
    )
    lineage = commands.add_parser(
        "lineage", help="a dataset's upstream and downstream, or a column's raw origins"
    )
    lineage.add_argument("dataset", help="dataset name, e.g. mart_complete_purchase_order")
    lineage.add_argument("--column", help="trace this column back to the raw columns")
    lineage.add_argument(
        "--file", type=Path, default=None, help="events file (default: the data folder's)"
    )
    release = commands.add_parser(
        "publish-classified", help="publish held values of fields the contract now names"
    )
    release.add_argument("table", help="source.table, e.g. bigcommerce.orders")
    release.add_argument("--field", action="append", default=[],
                         help="only this field (repeatable; default: every classified one)")
    bench = commands.add_parser("bench", help="run the benchmarks in benchmarks/")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    data = DataDir.from_env()

    if args.command == "main":
        from cli.main_job import run

        return run(
            data,
            _options(args),
            hours_lookback=args.hours_lookback,
            full_refresh=args.full_refresh,
            max_concurrent=args.max_concurrent,
            warehouse=args.warehouse,
        )
    if args.command == "ui":
        from cli.instance import prepare_dagster_home
        from resources.transformer import prepare_manifest

        prepare_dagster_home(data)
        prepare_manifest()
        # A plain `kill` must still stop the stand-ins: turn SIGTERM into a normal exit.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        sandbox_env = services.start(data, _options(args)).env
        # The code location comes from pyproject.toml ([tool.dagster]), named as there.
        ui = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-p", str(args.port)],
            env={**os.environ, **sandbox_env},
        )
        try:
            return ui.wait()
        finally:
            ui.terminate()
            try:
                ui.wait(timeout=30)
            except subprocess.TimeoutExpired:
                ui.kill()
            services.stop(data)
    if args.command == "sandbox":
        return _sandbox(args, data)
    if args.command == "bqemulator":
        from cli.bqemulator import run as bqemulator_run

        return bqemulator_run(data, args.action, args.project)
    if args.command == "marquez":
        from cli.marquez import run as marquez_run

        return marquez_run(data, args.action, args.port, args.admin_port)
    if args.command == "prepare":
        from assets.transformer.specs import prepare_specs
        from resources.transformer import prepare_manifest

        print(f"dbt manifest ready: {prepare_manifest()}")
        print(f"dbt asset specs ready: {prepare_specs()}")
        return 0
    if args.command == "contracts":
        from cli.contracts import regenerate

        return regenerate(check=args.check)
    if args.command == "lineage":
        from cli.lineage import run as lineage_run

        return lineage_run(args.dataset, args.column, args.file or data.lineage_file)
    if args.command == "publish-classified":
        from cli.classified import run as release_run

        return release_run(data, args.table, args.field)
    return subprocess.call([sys.executable, "-m", "benchmarks", *args.rest])


def _sandbox(args: argparse.Namespace, data: DataDir) -> int:
    if args.action == "stop":
        print("stopped" if services.stop(data, postgres=True) else "not running")
        return 0
    if args.action == "status":
        found = services.running(data)
        print(f"running at {found.api_url}" if found else "not running")
        return 0
    from cli.instance import prepare_dagster_home
    from resources.transformer import prepare_manifest

    prepare_manifest()  # `dagster` commands load the definitions, which need it
    started = services.start(data, _options(args), detach=True)
    env = {
        **started.env,
        "DAGSTER_HOME": prepare_dagster_home(data),
        "GOV_DATA_DIR": str(data.root),
    }
    env_file = data.sandbox / "env.sh"
    env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in env.items()))
    env_file.chmod(0o600)
    print(f"sandbox API at {started.api_url}; PostgreSQL at {started.wise_postgres_url}")
    print(f"for dagster commands in this shell: source {env_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
