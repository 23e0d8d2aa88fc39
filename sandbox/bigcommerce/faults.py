"""The fault plan: what the sandbox does wrong, on purpose, and reproducibly.

A plan is a TOML file (`--fault-plan` or `SANDBOX_FAULT_PLAN`) with a `seed` and `[[fault]]`
entries; see docs/sandbox-fault-plan.md. There are three layers of faults:

- transport kinds decide, per request, to delay, answer with an error, reset the connection or
  truncate the body. They draw from one `random.Random(seed)` per plan, so the same request
  sequence meets the same faults.
- record kinds alter records of a served page. Which records is decided by a stable hash of
  (seed, kind, record id), never by request order, so a retried or re-fetched page is altered
  exactly the same way.
- source kinds make the store itself behave as a real one does (a quota shared with another
  app, records modified while a client reads, orders deleted, orders with many lines). They
  run once when the app is built, before it serves: they may edit the dataset and register a
  hook that acts after each answered request.

Each kind is one function registered with `@transport_fault`, `@record_fault` or
`@source_fault`, declaring its parameters (and, where it matters, the endpoints it applies to);
the built-in kinds live in `fault_kinds.py` and `fault_kinds_source.py` (imported at the bottom
of this module so that importing `faults` always registers them). Loading validates every entry
against those declarations and names the entry in any error. The vocabulary the kinds are
written in (`Param`, the actions, the contexts) is in `fault_types.py`, re-exported here.
"""

from __future__ import annotations

import os
import random
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.bigcommerce.fault_types import (  # noqa: F401  (re-exported for the kinds)
    FRACTION,
    REQUIRED,
    Action,
    Delay,
    FaultPlanError,
    Param,
    RecordContext,
    Reset,
    Respond,
    SourceSetup,
    SourceState,
    TransportDraw,
    Truncate,
    record_key,
    stable_unit,
)

if TYPE_CHECKING:
    from sandbox.bigcommerce.data import Dataset

STREAMS = ("customers", "customer_metafields", "orders", "order_products", "products",
           "variants", "inventory")


# A cross-parameter rule, given the parameters and the entry's endpoint: a problem or None.
Check = Callable[[Mapping[str, Any], str], str | None]
LAYERS = ("transport", "record", "source")


@dataclass(frozen=True)
class FaultKind:
    name: str
    layer: str  # one of LAYERS
    apply: Callable[..., Any]
    params: Mapping[str, Param]
    check: Check | None = None
    endpoints: tuple[str, ...] | None = None  # the endpoints it may name; None: any, and "*"
    once: bool = False  # at most one entry of this kind per plan


KINDS: dict[str, dict[str, FaultKind]] = {layer: {} for layer in LAYERS}


def known_kinds() -> dict[str, FaultKind]:
    return {name: kind for layer in LAYERS for name, kind in KINDS[layer].items()}


def _register(kind: FaultKind) -> None:
    if kind.name in known_kinds():  # one namespace, so a plan entry names its kind unambiguously
        raise ValueError(f"fault kind {kind.name!r} registered twice")
    KINDS[kind.layer][kind.name] = kind


def transport_fault(name: str, *, check: Check | None = None, **params: Param) -> Callable:
    """Register `func(params, draw: TransportDraw) -> Action | None` as a transport kind."""
    def decorator(func: Callable) -> Callable:
        _register(FaultKind(name, "transport", func, params, check))
        return func

    return decorator


def record_fault(name: str, *, check: Check | None = None, **params: Param) -> Callable:
    """Register `func(record, params, ctx: RecordContext) -> None` as a record kind.

    `record` is a shallow copy of the served record: set top-level keys freely, but replace a
    nested object instead of mutating it (it is shared with the dataset). Every record kind
    takes `fraction`; declare `fraction=Param(float, 1.0, ...)` to give it a default.
    """
    def decorator(func: Callable) -> Callable:
        _register(FaultKind(name, "record", func, {"fraction": FRACTION, **params}, check))
        return func

    return decorator


def source_fault(name: str, *, endpoints: tuple[str, ...], once: bool = False,
                 check: Check | None = None, **params: Param) -> Callable:
    """Register `func(params, setup: SourceSetup) -> None` as a source kind.

    It runs once, in plan order, when the app is built: `endpoints` lists the endpoints an
    entry may name ("*" for a store-wide behaviour), `once` refuses a second entry.
    """
    def decorator(func: Callable) -> Callable:
        _register(FaultKind(name, "source", func, params, check, endpoints, once))
        return func

    return decorator


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

    The server consults it on its event loop only: `apply_source` once when the app is built,
    `transport_actions` once per admitted store request, `apply_records` for every page served.
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
        first: dict[str, Fault] = {}
        for fault in faults:
            earlier = first.setdefault(fault.kind.name, fault)
            if fault.kind.once and earlier is not fault:
                raise FaultPlanError(f"fault plan {source}: fault #{fault.number} (kind "
                                     f"{fault.kind.name!r}, endpoint {fault.endpoint!r}): only "
                                     f"one {fault.kind.name} entry per plan, and fault "
                                     f"#{earlier.number} is one")
        return cls(seed=seed, faults=faults, source=source)

    def apply_source(self, dataset: Dataset) -> SourceState:
        """Run the source kinds, in plan order, on the dataset about to be served."""
        state = SourceState()
        for fault in self.faults:
            if fault.kind.layer == "source":
                def unit(*parts: Any, name: str = fault.kind.name) -> float:
                    return stable_unit(self.seed, name, *parts)

                fault.kind.apply(fault.params,
                                 SourceSetup(dataset, fault.endpoint, state, self.rng, unit))
        return state

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
        listed = ", ".join(f"{layer} kinds {sorted(KINDS[layer])}" for layer in LAYERS)
        raise FaultPlanError(f"{where}: unknown kind; {listed}")
    if endpoint != "*" and endpoint not in STREAMS:
        raise FaultPlanError(f"{where}: unknown endpoint; use '*' or one of {list(STREAMS)}")
    kind = kinds[kind_name]
    if kind.endpoints is not None and endpoint not in kind.endpoints:
        raise FaultPlanError(f"{where}: {kind_name} applies to endpoint "
                             f"{' or '.join(repr(e) for e in kind.endpoints)} only")
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
        problem = kind.check(params, endpoint) if kind.check else None
        if problem:
            raise FaultPlanError(problem)
    except FaultPlanError as exc:
        raise FaultPlanError(f"{where}: {exc}") from None
    return Fault(number, endpoint, kind, params)


# The built-in kinds register themselves on import; they need the names defined above.
from sandbox.bigcommerce import fault_kinds, fault_kinds_source  # noqa: E402, F401
