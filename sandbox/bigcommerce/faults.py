"""The fault plan: what the sandbox does wrong, on purpose, and reproducibly.

A plan is a TOML file (`--fault-plan` or `SANDBOX_FAULT_PLAN`) with a `seed` and `[[fault]]`
entries; see docs/sandbox-fault-plan.md. There are two layers of faults:

- transport kinds decide, per request, to delay, answer with an error, reset the connection or
  truncate the body. They draw from one `random.Random(seed)` per plan, so the same request
  sequence meets the same faults.
- record kinds alter records of a served page. Which records is decided by a stable hash of
  (seed, kind, record id), never by request order, so a retried or re-fetched page is altered
  exactly the same way.

Each kind is one function registered with `@transport_fault` or `@record_fault`, declaring its
parameters; the built-in kinds live in `fault_kinds.py` (imported at the bottom of this module so
that importing `faults` always registers them). Loading validates every entry against those
declarations and names the entry in any error.
"""

from __future__ import annotations

import hashlib
import os
import random
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STREAMS = ("customers", "customer_metafields", "orders", "order_products", "products",
           "variants", "inventory")
REQUIRED: Any = object()


class FaultPlanError(ValueError):
    """A fault plan that cannot be loaded; the message names the entry and the problem."""


@dataclass(frozen=True)
class Param:
    """A declared fault parameter: its type, default (or REQUIRED), and allowed values."""

    type: type
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def check(self, name: str, value: Any) -> Any:
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        wrong_bool = isinstance(value, bool) and self.type is not bool  # TOML true is no number
        if wrong_bool or not isinstance(value, self.type):
            raise FaultPlanError(f"parameter {name!r} must be a {self.type.__name__}, "
                                 f"got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise FaultPlanError(f"parameter {name!r} must be >= {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise FaultPlanError(f"parameter {name!r} must be <= {self.maximum}, got {value}")
        if self.choices is not None and value not in self.choices:
            raise FaultPlanError(f"parameter {name!r} must be one of {list(self.choices)}, "
                                 f"got {value!r}")
        return value


FRACTION = Param(float, minimum=0.0, maximum=1.0)


# What a transport fault asks the server to do; app.py enacts them.
@dataclass(frozen=True)
class Delay:
    seconds: float


@dataclass(frozen=True)
class Respond:
    """Answer now with `status` and a v3 error body; `counter` names the stats bucket."""

    status: int
    title: str
    rate_limit_headers: bool
    counter: str


@dataclass(frozen=True)
class Reset:
    """Abort the TCP connection without any HTTP response."""


@dataclass(frozen=True)
class Truncate:
    """Serve a 200 whose JSON body is cut in the middle (Content-Length matching the cut)."""


Action = Delay | Respond | Reset | Truncate


@dataclass(frozen=True)
class TransportDraw:
    """What a transport kind may base its decision on."""

    rng: random.Random  # the plan's generator, shared by all transport faults
    count: int  # how many earlier requests this fault entry has seen (0-based)


@dataclass(frozen=True)
class RecordContext:
    """Where the record sits: the whole ordered result its page was cut from, and the page."""

    records: Sequence[dict]
    index: int
    limit: int
    chosen: Callable[[dict], bool]  # whether this fault entry alters a given record
    unit: float  # this record's stable hash in [0, 1), for deterministic per-record choices


Check = Callable[[Mapping[str, Any]], str | None]  # cross-parameter rule: a problem or None


@dataclass(frozen=True)
class FaultKind:
    name: str
    layer: str  # "transport" or "record"
    apply: Callable[..., Any]
    params: Mapping[str, Param]
    check: Check | None = None


TRANSPORT_KINDS: dict[str, FaultKind] = {}
RECORD_KINDS: dict[str, FaultKind] = {}


def known_kinds() -> dict[str, FaultKind]:
    return {**TRANSPORT_KINDS, **RECORD_KINDS}


def _register(layer: str, name: str, check: Check | None, params: dict[str, Param]) -> Callable:
    def decorator(func: Callable) -> Callable:
        if name in known_kinds():  # one namespace, so a plan entry names its kind unambiguously
            raise ValueError(f"fault kind {name!r} registered twice")
        registry = TRANSPORT_KINDS if layer == "transport" else RECORD_KINDS
        registry[name] = FaultKind(name, layer, func, params, check)
        return func

    return decorator


def transport_fault(name: str, *, check: Check | None = None, **params: Param) -> Callable:
    """Register `func(params, draw: TransportDraw) -> Action | None` as a transport kind."""
    return _register("transport", name, check, params)


def record_fault(name: str, *, check: Check | None = None, **params: Param) -> Callable:
    """Register `func(record, params, ctx: RecordContext) -> None` as a record kind.

    `record` is a shallow copy of the served record: set top-level keys freely, but replace a
    nested object instead of mutating it (it is shared with the dataset). Every record kind
    takes `fraction`; declare `fraction=Param(float, 1.0, ...)` to give it a default.
    """
    return _register("record", name, check, {"fraction": FRACTION, **params})


def record_key(record: dict) -> Any:
    """The id a record is known by (inventory items have none of their own: the variant's)."""
    return record["id"] if "id" in record else record["identity"]["variant_id"]


def stable_unit(*parts: Any) -> float:
    """A hash of `parts` mapped to [0, 1), identical across processes and Python versions."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Fault:
    number: int  # 1-based position in the plan, for messages
    endpoint: str
    kind: FaultKind
    params: Mapping[str, Any]

    def matches(self, stream: str) -> bool:
        return self.endpoint in ("*", stream)


@dataclass
class FaultPlan:
    """A validated plan. Build it with `load`, `locate`, `from_dict` or `empty`.

    The server consults it on its event loop only: `transport_actions` once per admitted store
    request, `apply_records` for every page it serves.
    """

    seed: int = 0
    faults: list[Fault] = field(default_factory=list)
    source: str = "<empty>"

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._seen = [0] * len(self.faults)

    @classmethod
    def empty(cls) -> FaultPlan:
        return cls()

    @classmethod
    def load(cls, path: str | os.PathLike) -> FaultPlan:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise FaultPlanError(f"fault plan {path}: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def locate(cls, path: str | os.PathLike | None = None) -> FaultPlan:
        """The plan named on the command line, else by SANDBOX_FAULT_PLAN, else no faults."""
        path = path or os.environ.get("SANDBOX_FAULT_PLAN")
        return cls.load(path) if path else cls.empty()

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = "<dict>") -> FaultPlan:
        unknown = set(raw) - {"seed", "fault"}
        if unknown:
            raise FaultPlanError(f"fault plan {source}: unknown top-level keys {sorted(unknown)}")
        seed = raw.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise FaultPlanError(f"fault plan {source}: seed must be an integer, got {seed!r}")
        entries = raw.get("fault", [])
        if not isinstance(entries, list):
            raise FaultPlanError(f"fault plan {source}: 'fault' must be an array of tables")
        faults = [_parse_entry(source, n, entry) for n, entry in enumerate(entries, start=1)]
        return cls(seed=seed, faults=faults, source=source)

    def transport_actions(self, stream: str) -> list[Action]:
        """The actions for one request, in plan order.

        Every matching transport fault is consulted on every request, whatever the others
        decide, so each one's draws (and counts) do not depend on its neighbours. The server
        sleeps for all delays, then enacts the first Respond or Reset, else any Truncate.
        """
        actions: list[Action] = []
        for i, fault in enumerate(self.faults):
            if fault.kind.layer == "transport" and fault.matches(stream):
                action = fault.kind.apply(fault.params, TransportDraw(self.rng, self._seen[i]))
                self._seen[i] += 1
                if action is not None:
                    actions.append(action)
        return actions

    def apply_records(self, stream: str, records: Sequence[dict], start: int,
                      limit: int) -> list[dict]:
        """The page `records[start:start + limit]`, altered by the record faults (copies)."""
        page = list(records[start:start + limit])
        for fault in self.faults:
            if fault.kind.layer != "record" or not fault.matches(stream):
                continue

            def chosen(record: dict, fault: Fault = fault) -> bool:
                unit = stable_unit(self.seed, fault.kind.name, record_key(record))
                return unit < fault.params["fraction"]

            for offset, record in enumerate(page):
                original = records[start + offset]
                if not chosen(original):
                    continue
                if record is original:  # copy on first write: the dataset stays pristine
                    record = page[offset] = dict(original)
                unit = stable_unit(self.seed, fault.kind.name, "variant", record_key(original))
                ctx = RecordContext(records, start + offset, limit, chosen, unit)
                fault.kind.apply(record, fault.params, ctx)
        return page


def _parse_entry(source: str, number: int, entry: Any) -> Fault:
    if not isinstance(entry, Mapping):
        raise FaultPlanError(f"fault plan {source}: fault #{number} must be a table")
    kind_name, endpoint = entry.get("kind"), entry.get("endpoint", "*")
    where = f"fault plan {source}: fault #{number} (kind {kind_name!r}, endpoint {endpoint!r})"
    kinds = known_kinds()
    if not isinstance(kind_name, str) or kind_name not in kinds:
        raise FaultPlanError(f"{where}: unknown kind; transport kinds are "
                             f"{sorted(TRANSPORT_KINDS)}, record kinds {sorted(RECORD_KINDS)}")
    if endpoint != "*" and endpoint not in STREAMS:
        raise FaultPlanError(f"{where}: unknown endpoint; use '*' or one of {list(STREAMS)}")
    kind = kinds[kind_name]
    given = {k: v for k, v in entry.items() if k not in ("kind", "endpoint")}
    unknown = set(given) - set(kind.params)
    if unknown:
        raise FaultPlanError(f"{where}: unknown parameter(s) {sorted(unknown)}; "
                             f"{kind_name} takes {sorted(kind.params)}")
    params: dict[str, Any] = {}
    try:
        for name, spec in kind.params.items():
            if name not in given and spec.default is REQUIRED:
                raise FaultPlanError(f"missing required parameter {name!r}")
            params[name] = spec.check(name, given[name]) if name in given else spec.default
        problem = kind.check(params) if kind.check else None
        if problem:
            raise FaultPlanError(problem)
    except FaultPlanError as exc:
        raise FaultPlanError(f"{where}: {exc}") from None
    return Fault(number, endpoint, kind, params)


# The built-in kinds register themselves on import; they need the names defined above.
from sandbox.bigcommerce import fault_kinds  # noqa: E402, F401
