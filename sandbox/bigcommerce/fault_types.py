"""The vocabulary fault kinds are written in: parameters, actions, and what each layer is given.

`faults.py` holds the plan and the registry and re-exports these names, so kinds and callers
import everything from `sandbox.bigcommerce.faults`.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.bigcommerce.data import Dataset
    from sandbox.bigcommerce.listing import Table

REQUIRED: Any = object()


class FaultPlanError(ValueError):
    """A fault plan that cannot be loaded; the message names the entry and the problem."""


@dataclass(frozen=True)
class Param:
    """A declared fault parameter: its type(s), default (or REQUIRED), and allowed values."""

    type: type | tuple[type, ...]
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def check(self, name: str, value: Any) -> Any:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        wrong_bool = isinstance(value, bool) and bool not in types  # TOML true is no number
        if wrong_bool or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise FaultPlanError(f"parameter {name!r} must be a {names}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise FaultPlanError(f"parameter {name!r} must be >= {self.minimum}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise FaultPlanError(f"parameter {name!r} must be <= {self.maximum}, got {value}")
        if self.choices is not None and value not in self.choices:
            raise FaultPlanError(f"parameter {name!r} must be one of {list(self.choices)}, "
                                 f"got {value!r}")
        return value


FRACTION = Param(float, minimum=0.0, maximum=1.0)


def record_key(record: dict) -> Any:
    """The id a record is known by (inventory items have none of their own: the variant's)."""
    return record["id"] if "id" in record else record["identity"]["variant_id"]


def stable_unit(*parts: Any) -> float:
    """A hash of `parts` mapped to [0, 1), identical across processes and Python versions."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# ---- transport layer: what a kind asks the server to do; app.py enacts them ------------------


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


# ---- record layer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordContext:
    """Where the record sits: the whole ordered result its page was cut from, and the page."""

    records: Sequence[dict]
    index: int
    limit: int
    chosen: Callable[[dict], bool]  # whether this fault entry alters a given record
    unit: float  # this record's stable hash in [0, 1), for deterministic per-record choices


# ---- source layer: how the store itself behaves, set up once before serving -----------------

Answered = Callable[[int, "Table"], None]  # (requests answered so far, the stream's table)


@dataclass
class SourceState:
    """What the source kinds made of the store; the app, the handlers and the stats read it.

    The id sets are facts about the dataset and survive a stats reset; `deleted_order_404`
    is a counter and does not.
    """

    other_app_share: float = 0.0
    deleted_orders: set[int] = field(default_factory=set)
    many_lines_orders: set[int] = field(default_factory=set)
    modified: dict[str, set[Any]] = field(default_factory=dict)
    deleted_order_404: int = 0
    hooks: list[tuple[str, Answered]] = field(default_factory=list)
    answered: Counter[str] = field(default_factory=Counter)

    def start(self, tables: dict[str, Table]) -> None:
        """Run every hook once before the first request (for `after = 0`)."""
        for stream, hook in self.hooks:
            hook(0, tables[stream])

    def answer(self, stream: str, tables: dict[str, Table]) -> None:
        """Count a request the handler answered (2xx) and run the stream's hooks."""
        self.answered[stream] += 1
        for hooked, hook in self.hooks:
            if hooked == stream:
                hook(self.answered[stream], tables[stream])


@dataclass(frozen=True)
class SourceSetup:
    """What a source kind is given, once, before the store serves anything.

    It may edit `dataset` (the live records every handler serves), record what it did in
    `state`, and register `state.hooks` to act after each answered request.
    """

    dataset: Dataset
    stream: str  # the entry's endpoint
    state: SourceState
    rng: random.Random  # the plan's generator
    unit: Callable[..., float]  # stable hash of (seed, kind, *parts) in [0, 1)
