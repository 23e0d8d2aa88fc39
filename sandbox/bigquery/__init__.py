"""The BigQuery emulator (bqemulator) in a venv of its own, started and stopped as a process.

    with start(folder) as emulator:
        bq = client(emulator)   # a google.cloud.bigquery.Client against it
"""

from sandbox.bigquery.emulator import Emulator, EmulatorError, client, running, start, stop
from sandbox.bigquery.venv import ensure_venv

__all__ = ["Emulator", "EmulatorError", "client", "ensure_venv", "running", "start", "stop"]
