"""Credentials and the client: a service-account key from `GCP_SERVICE_ACCOUNT_KEY` (a path to the
key file, or the key's JSON itself, as the original guide had it), or the local emulator
(`BIGQUERY_EMULATOR_HOST`, anonymous credentials).

Every mistake stops in one line naming the variable: nothing set, a value that is neither a
readable file nor JSON, JSON that is not a service-account key, no project. A key's content is
never echoed (it is a secret); a path is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from resources.bigquery.errors import BigQueryError, one_line
from resources.bigquery.settings import BigQuerySettings

KEY_VARIABLE = "GCP_SERVICE_ACCOUNT_KEY"
SCOPES = ("https://www.googleapis.com/auth/bigquery",)


def key_info(value: str) -> dict[str, Any]:
    """The key's JSON, from the variable's value: the JSON itself or the path of a file."""
    text = value.strip()
    if not text.startswith("{"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise BigQueryError(f"{KEY_VARIABLE} is neither a readable file nor a service-account "
                                f"key's JSON ({_describe(text)})")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise BigQueryError(f"{KEY_VARIABLE}={path}: the key file cannot be read "
                                f"({one_line(error, 120)})") from error
        where = f"{KEY_VARIABLE}={path}: the file"
    else:
        where = f"{KEY_VARIABLE} looks like JSON but"
    try:
        info = json.loads(text)
    except json.JSONDecodeError as error:
        # The position only: the message of a JSON error quotes no content, but stay sure.
        raise BigQueryError(f"{where} is not JSON (line {error.lineno}, column {error.colno})"
                            ) from None
    if not isinstance(info, dict):
        raise BigQueryError(f"{where} is JSON but not an object (a service-account key is one)")
    return info


def _describe(text: str) -> str:
    """A path is shown; anything else (perhaps a pasted secret) only by its length."""
    if "/" in text or text.endswith(".json"):
        return f"no file at {text!r}"
    return f"a value of {len(text)} characters"


def service_account(env: Mapping[str, str]) -> tuple[Any, str | None]:
    """The key's credentials and the project it names (`project_id`, if any)."""
    from google.oauth2 import service_account as accounts

    value = env.get(KEY_VARIABLE, "")
    if not value.strip():
        raise BigQueryError(f"{KEY_VARIABLE} is not set: give the path of a service-account key "
                            "file or the key's JSON (or set BIGQUERY_EMULATOR_HOST to use a local "
                            "emulator)")
    info = key_info(value)
    if info.get("type") not in (None, "service_account"):
        raise BigQueryError(f"{KEY_VARIABLE} is a {info.get('type')!r} credential, not a "
                            "service-account key")
    try:
        credentials = accounts.Credentials.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, KeyError, TypeError) as error:
        # google-auth names the missing fields; a bad private key says it cannot deserialize.
        raise BigQueryError(f"{KEY_VARIABLE} is not a usable service-account key "
                            f"({one_line(error, 160)})") from None
    return credentials, info.get("project_id")


def make_client(settings: BigQuerySettings, env: Mapping[str, str] | None = None):
    """A `google.cloud.bigquery.Client` for `settings`, and the settings with the project
    resolved. Raises `BigQueryError` (one line) for bad credentials or no project."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    env = os.environ if env is None else env
    if settings.emulator_host:
        credentials, key_project, options = (AnonymousCredentials(), None,
                                             ClientOptions(api_endpoint=settings.emulator_host))
    else:
        credentials, key_project = service_account(env)
        options = None
    if settings.project is None:
        if not key_project:
            raise BigQueryError("no BigQuery project: set GCP_PROJECT (the dbt prod target reads "
                                "it too); the credentials name none")
        settings = replace(settings, project=key_project,
                           project_source=f"the project_id of {KEY_VARIABLE}")
    client = bigquery.Client(project=settings.project, credentials=credentials,
                             location=settings.location, client_options=options)
    return client, settings


def server_name(settings: BigQuerySettings) -> str:
    """Where the requests go, as an error should say it."""
    if settings.emulator_host:
        return f"the emulator at {settings.emulator_host} (BIGQUERY_EMULATOR_HOST)"
    return "BigQuery (bigquery.googleapis.com)"
