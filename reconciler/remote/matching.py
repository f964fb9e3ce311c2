"""Recognising an execution this client started: the pure half of starting exactly once (SPEC 5.4).

When the answer to a start is lost, the execution may exist anyway. It is ours if it is an execution of
the same workflow, started at or after the attempt (less a clock-skew allowance, since the server's clock
is not ours), by the same user, with the same inputs. This module decides that from data already read;
the client does the listing and fetching.

Input comparison is by plain value, tolerant of what a server legitimately changes on the way back:

- ``SecureString`` values may come back masked: any value matches;
- numbers: ``2`` equals ``2.0``; dates: equal instants in any ISO spelling; SDK objects: same ``id``
  (the server may add ``href``/``displayValue``);
- parameters the server adds with no value (``null``) are ignored; ``_vcd_*`` token inputs never count;
- parameters the server adds *with* a value (a workflow default for an input we did not send) are
  tolerated only when no exact match exists.

Each execution is adopted by at most one wanted start (`assign`), earliest first, so two runs with the
same inputs (a ``revision`` bump) never both adopt the same execution.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from reconciler.parameters import ParamType
from reconciler.remote.codecs import TypedValue
from reconciler.remote.executions import Execution, ExecutionSummary, parse_date

K = TypeVar("K", bound=Hashable)
DEFAULT_CLOCK_SKEW = timedelta(minutes=2)


@dataclass(frozen=True)
class Wanted:
    """One start whose execution we look for."""

    inputs: Mapping[str, TypedValue]
    since: datetime
    user: str | None  # None: any user
    exclude: Collection[str] = ()  # execution ids already known to belong elsewhere


def is_candidate(summary: ExecutionSummary, wanted: Wanted, skew: timedelta) -> bool:
    """Could this list row be the wanted start? (time window, user, not excluded)."""
    if summary.id in wanted.exclude:
        return False
    if summary.start_date is not None and summary.start_date < wanted.since - skew:
        return False
    return wanted.user is None or same_user(summary.started_by, wanted.user)


def same_user(started_by: str | None, user: str) -> bool:
    """``startedBy`` against our ``user@org``, case-insensitively (a bare user name matches too)."""
    if started_by is None:
        return True  # the server did not say: inputs and time still have to match
    theirs, ours = started_by.strip().lower(), user.strip().lower()
    return theirs == ours or theirs == ours.split("@", 1)[0]


def matches(execution: Execution, wanted: Wanted, skew: timedelta, *, exact: bool = True) -> bool:
    if not is_candidate(execution.summary(), wanted, skew):
        return False
    return same_inputs(wanted.inputs, execution.inputs, extras_allowed=not exact)


def assign(wanted: Mapping[K, Wanted], executions: Sequence[Execution], skew: timedelta) -> dict[K, Execution | None]:
    """Each wanted key -> its execution (earliest match not taken by an earlier key), or None.

    An exact match (no extra inputs with values) is preferred; failing that, an execution whose extra
    inputs have values (workflow defaults the server filled in for inputs we did not send) is taken.
    """
    ordered = sorted(executions, key=_start_key)
    taken: set[str] = set()
    result: dict[K, Execution | None] = {}
    for key in sorted(wanted, key=lambda k: wanted[k].since):
        free = [e for e in ordered if e.id not in taken]
        found = next((e for e in free if matches(e, wanted[key], skew)), None)
        if found is None:
            found = next((e for e in free if matches(e, wanted[key], skew, exact=False)), None)
        if found is not None:
            taken.add(found.id)
        result[key] = found
    return result


def same_inputs(
    wanted: Mapping[str, TypedValue], found: Mapping[str, TypedValue], *, extras_allowed: bool = False
) -> bool:
    """Whether the inputs read back are the inputs sent (see the module doc for the tolerances).

    Inputs the server reports but we did not send must be empty, unless ``extras_allowed`` (defaults).
    """
    extra = set(found) - set(wanted)
    if not extras_allowed and any(found[name][1] is not None for name in extra):
        return False
    for name, (type_name, value) in wanted.items():
        if name not in found:
            if value is not None:
                return False
            continue
        if not same_value(type_name, value, found[name][1]):
            return False
    return True


def same_value(type_name: str, sent: Any, got: Any) -> bool:
    """Equality of two plain values of ``type_name``, as the server may spell them back."""
    t = ParamType(type_name)
    if t.is_sensitive or type_name == "EncryptedString":
        return True
    if t.is_array:
        return (
            isinstance(sent, list)
            and isinstance(got, list)
            and len(sent) == len(got)
            and all(same_value(t.element.name, a, b) for a, b in zip(sent, got, strict=True))
        )
    if type_name == "Date":
        return _same_instant(sent, got)
    if t.is_sdk_object:
        return isinstance(sent, Mapping) and isinstance(got, Mapping) and sent.get("id") == got.get("id")
    return _loosely_equal(sent, got)


def _loosely_equal(a: Any, b: Any) -> bool:
    """Structural equality where ``bool`` never equals a number but ``2 == 2.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_loosely_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_loosely_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_instant(a: Any, b: Any) -> bool:
    if a == b:
        return True
    first, second = parse_date(a), parse_date(b)
    return first is not None and first == second


def _start_key(execution: Execution) -> tuple[int, datetime]:
    start = execution.start_date
    if start is None:
        return (1, datetime.max)
    return (0, start.astimezone(UTC).replace(tzinfo=None))
