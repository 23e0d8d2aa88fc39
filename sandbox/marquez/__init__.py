"""The Marquez API (the lineage browser's back end) from Maven Central, with its own PostgreSQL.

    with start(folder, port=..., admin_port=...) as marquez:
        ...  # OPENLINEAGE_URL=marquez.url
"""

from sandbox.marquez.jars import JarsUnavailable, MarquezError
from sandbox.marquez.server import ADMIN_PORT, API_PORT, Marquez, running, start, stop

__all__ = ["ADMIN_PORT", "API_PORT", "JarsUnavailable", "Marquez", "MarquezError", "running",
           "start", "stop"]
