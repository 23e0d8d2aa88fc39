"""One-line errors: what failed, and the variable, setting or batch to look at.

The client's exceptions carry the HTTP call, a reason dictionary and the job's location on
several lines; a run's failure message should say in one line what to fix instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.api_core import exceptions as api

MAX_DETAIL = 300


class BigQueryError(RuntimeError):
    """The zone could not do what was asked; the message is one line naming what to fix."""


def one_line(text: object, limit: int = MAX_DETAIL) -> str:
    """The first non-empty line of `text`, shortened to `limit` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else str(text).strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def api_detail(error: api.GoogleAPICallError) -> str:
    """`404 Not found: Project x`: the status and the API's own message, without the URL."""
    message = error.message or ""
    if error.errors and isinstance(error.errors[0], dict):
        message = error.errors[0].get("message") or message
    # The emulator prefixes its messages with the HTTP call; BigQuery does not.
    if message.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")) and ": " in message:
        message = message.split(": ", 1)[1]
    return one_line(f"{error.code} {message}" if error.code else message)


@contextmanager
def explained(what: str, server: str) -> Iterator[None]:
    """Turn the client's errors inside the block into a `BigQueryError` starting with `what`.

    `server` names where the requests went (the emulator's address and its variable, or
    BigQuery), for the error of a server that does not answer.
    """
    # Imported here: the client's modules cost a second to import, paid only where it is used.
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    try:
        yield
    except BigQueryError:
        raise
    except api.RetryError as error:
        cause = error.cause if error.cause is not None else error
        raise BigQueryError(f"{what}: {server} did not answer in time "
                            f"({one_line(cause, 160)})") from error
    except (requests.ConnectionError, requests.Timeout, auth.TransportError) as error:
        raise BigQueryError(f"{what}: {server} did not answer ({one_line(error, 160)})") from error
    except auth.RefreshError as error:
        raise BigQueryError(f"{what}: the service-account key of GCP_SERVICE_ACCOUNT_KEY was "
                            f"refused ({one_line(error, 160)})") from error
    except api.GoogleAPICallError as error:
        raise BigQueryError(f"{what}: {api_detail(error)}") from error
