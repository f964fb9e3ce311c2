"""The one duration grammar of the tool: manifests, the stack file, the command line's flags
(``--lock-timeout``, the emulator's ``--session-idle-timeout``) and the environment's overrides
(``RECONCILER_GIVE_UP_AFTER``).

A module of its own, without pydantic, so that a command that only parses a flag does not build
the manifest models (`reconciler.manifest.models` uses it for its fields).
"""

from __future__ import annotations

import re
from functools import lru_cache

from reconciler.errors import InvalidValueError

DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$|^(\d+)$")
_DURATION_UNITS = (86400, 3600, 60, 1, 1)


@lru_cache(maxsize=1024)
def duration_seconds(text: str) -> int:
    """``30s``, ``30m``, ``2h``, ``1h30m``, ``1d``, or a whole number of seconds (``45``) -> seconds;
    `InvalidValueError` (a ValueError) otherwise.

    Remembered per text: every run of a large stack writes one of a few durations, and each is
    read twice (validated by the model, then converted by the loader)."""
    found = DURATION.match(text)
    if not text or found is None:
        raise InvalidValueError(f"{text!r} is not a duration: write e.g. 30s, 30m, 2h, 1h30m or 45 (seconds)")
    return sum(int(n) * unit for n, unit in zip(found.groups(), _DURATION_UNITS, strict=True) if n)


def seconds_of(value: object) -> float:
    """A span of time as the stack file or the environment gives it: a duration in the one grammar
    (``90s``, ``5m``, ``45``) or a positive number of seconds (``2.5``); `InvalidValueError` otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value > 0:
            return float(value)
    elif isinstance(value, str) and duration_seconds(value.strip()) > 0:
        return float(duration_seconds(value.strip()))
    raise InvalidValueError(f"{value!r} is not a positive duration: write e.g. 30s, 5m, 1h30m or 45 (seconds)")
