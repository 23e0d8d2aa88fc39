"""Command line: `python -m sandbox.bigcommerce --port 0 --size 500 --ready-file PATH ...`.

The access token comes from `--token` or, better (command lines are visible to other users),
from SANDBOX_ACCESS_TOKEN. It is never printed. The fault plan comes from `--fault-plan` or
SANDBOX_FAULT_PLAN.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from sandbox.bigcommerce.app import SandboxConfig
from sandbox.bigcommerce.data import DatasetSize
from sandbox.bigcommerce.faults import FaultPlan, FaultPlanError
from sandbox.bigcommerce.server import serve


def _anchor(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.bigcommerce",
        description="Serve a seeded, BigCommerce-compatible REST API on a local port.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--size", type=int, default=500,
                        help="customers; orders are twice that, products a tenth (at least 10)")
    for kind in ("customers", "orders", "products"):
        parser.add_argument(f"--{kind}", type=int, default=None,
                            help=f"override the number of {kind} that --size implies")
    parser.add_argument("--drawn-orders", type=int, default=0,
                        help="draw only this many orders and serve --orders made from them "
                             "with fresh ids (repeat.py; for scale benchmarks)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quota", type=int, default=150, help="requests per window")
    parser.add_argument("--window-ms", type=int, default=30_000)
    parser.add_argument("--anchor", type=_anchor, default=None,
                        help="ISO-8601 'now' of the data (default: this hour, UTC)")
    parser.add_argument("--fault-plan", default=None, help="TOML file (or SANDBOX_FAULT_PLAN)")
    parser.add_argument("--ready-file", default=None,
                        help="write {base_url, store_hash, pid} here once listening")
    parser.add_argument("--store-hash", default="sandbox")
    parser.add_argument("--token", default=None, help="prefer SANDBOX_ACCESS_TOKEN")
    args = parser.parse_args(argv)

    token = args.token or os.environ.get("SANDBOX_ACCESS_TOKEN")
    if not token:
        parser.error("an access token is required: set SANDBOX_ACCESS_TOKEN or pass --token")
    try:
        plan = FaultPlan.locate(args.fault_plan)
    except FaultPlanError as exc:
        print(exc, file=sys.stderr)
        return 2
    scaled = DatasetSize.scaled(args.size)
    size = DatasetSize(
        customers=scaled.customers if args.customers is None else args.customers,
        orders=scaled.orders if args.orders is None else args.orders,
        products=scaled.products if args.products is None else args.products,
    )
    config = SandboxConfig(
        access_token=token, store_hash=args.store_hash, seed=args.seed, size=size,
        quota=args.quota, window_ms=args.window_ms,
        fault_plan=plan, drawn_orders=args.drawn_orders,
        **({"anchor": args.anchor} if args.anchor else {}),
    )
    serve(config, args.host, args.port, args.ready_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
