"""What a dbt test checks, in one sentence, for its Dagster check's description.

A test's own `description:` wins (singular tests have theirs in data-tests/_data_tests.yml).
Otherwise the sentence is generated from the manifest's `test_metadata` (the generic test's
name and its arguments), one helper per kind of test, so the check page says what was checked
before any run, not "No description provided".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# `ref('dim_customer')` / `source('bigcommerce', 'orders')`, as a `to:` argument is written.
_RELATION = re.compile(r"""(ref|source)\(\s*['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?\s*\)""")
# Arguments dbt adds itself, not ones the test's author wrote.
_IMPLICIT = {"model", "column_name"}


def _readable(value: Any) -> str:
    """An argument as a person writes it: lists joined, relations by name."""
    if isinstance(value, list | tuple):
        return ", ".join(_readable(item) for item in value)
    if isinstance(value, str) and (match := _RELATION.fullmatch(value.strip())):
        kind, first, second = match.groups()
        return f"{first}.{second}" if kind == "source" and second else first
    return str(value)


def tested_name(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    """The model (`fct_order`) or source (`bigcommerce.orders`) a generic test is attached to."""
    attached = node.get("attached_node") or ""
    model = manifest.get("nodes", {}).get(attached) or manifest.get("sources", {}).get(attached)
    if model is None:
        return _readable(node.get("test_metadata", {}).get("kwargs", {}).get("model", "?"))
    if model["resource_type"] == "source":
        return f"{model['source_name']}.{model['name']}"
    return model["name"]


def _not_null(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    return f"every {model}.{column} is set"


def _unique(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    return f"no two rows of {model} share {column}"


def _relationships(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    return (f"every {model}.{column} exists in "
            f"{_readable(kwargs.get('to'))}.{kwargs.get('field')}")


def _accepted_values(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    return f"every {model}.{column} is one of: {_readable(kwargs.get('values', []))}"


def _expression_is_true(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    """Our generic test (data-tests/generic): a column's expression is prefixed by the column."""
    expression = f"{column} {kwargs.get('expression')}" if column else kwargs.get("expression")
    return f"every row of {model} has {expression}"


def _unique_combination_of_columns(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
    return f"no two rows of {model} share ({_readable(kwargs.get('columns', []))})"


def _other(name: str) -> Callable[[str, str, Mapping[str, Any]], str]:
    """Any other generic test (dbt_utils, a package's): its name and arguments."""

    def describe(model: str, column: str, kwargs: Mapping[str, Any]) -> str:
        where = f"{model}.{column}" if column else model
        arguments = "; ".join(f"{key} = {_readable(value)}" for key, value in sorted(kwargs.items())
                              if key not in _IMPLICIT)
        return f"{name} on {where}" + (f": {arguments}" if arguments else "")

    return describe


_BY_TEST: dict[str, Callable[[str, str, Mapping[str, Any]], str]] = {
    "not_null": _not_null,
    "unique": _unique,
    "relationships": _relationships,
    "accepted_values": _accepted_values,
    "expression_is_true": _expression_is_true,
    "unique_combination_of_columns": _unique_combination_of_columns,
}


def _where(node: Mapping[str, Any]) -> str:
    """The test's `where` config, which narrows every kind of test alike."""
    where = node.get("config", {}).get("where")
    return f" (where {' '.join(str(where).split())})" if where else ""


def describe_test(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    """The test's own description, else one generated from its kind and arguments."""
    own = " ".join((node.get("description") or "").split())
    if own:
        return own
    metadata = node.get("test_metadata") or {}
    if not metadata:  # a singular test nobody described
        return f"{node['name']} returns no rows (data-tests/{node.get('path', '')})"
    name = metadata["name"]
    kwargs = metadata.get("kwargs", {})
    namespace = metadata.get("namespace")
    describe = _other(f"{namespace}.{name}") if namespace else _BY_TEST.get(name, _other(name))
    column = kwargs.get("column_name") or node.get("column_name") or ""
    text = describe(tested_name(manifest, node), column, kwargs) + _where(node)
    return " ".join(text.split())  # a multi-line `expression:` reads as one line
