"""A local, seeded stand-in for the BigCommerce REST API (customers, orders, catalog, inventory).

Start one with `running_sandbox(SandboxConfig(access_token=...))` in Python, or
`python -m sandbox.bigcommerce` from a shell; point the client at its base URL and token.
"""

from sandbox.bigcommerce.app import SandboxConfig, build_app
from sandbox.bigcommerce.data import Dataset, DatasetSize
from sandbox.bigcommerce.faults import FaultPlan, FaultPlanError
from sandbox.bigcommerce.server import SandboxHandle, running_sandbox, serve

__all__ = [
    "Dataset",
    "DatasetSize",
    "FaultPlan",
    "FaultPlanError",
    "SandboxConfig",
    "SandboxHandle",
    "build_app",
    "running_sandbox",
    "serve",
]
