"""What both backends say about a lock: who takes it, and the error a second writer gets.

A lock holder is described by `LockInfo` (base.py). The message of a conflict follows Terraform's,
and always ends with the lock id to give to ``reconciler force-unlock``::

    Error acquiring the state lock: state is locked by another process.
    Lock Info:
      ID:        0b6f...
      Path:      /stack/reconciler.state.json
      Operation: apply
      Who:       alice@build-7 (pid 4242)
      Created:   2025-01-01T10:00:00Z
    Wait for it to finish, use --lock-timeout, or if you are sure no process holds it:
    reconciler force-unlock 0b6f...
"""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from reconciler.backends.base import LockInfo
from reconciler.errors import StateLockedError

POLL_SECONDS = 0.1
T = TypeVar("T")


def who_am_i() -> str:
    """``user@host`` of this process (the user falls back to the uid when unknown)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def this_host() -> str:
    return socket.gethostname()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_lock_info(operation: str, path: str) -> LockInfo:
    """The details recorded by the process that just took the lock."""
    return LockInfo(
        id=str(uuid.uuid4()), operation=operation, who=who_am_i(), pid=os.getpid(), created=utc_now(), path=path
    )


def locked_error(holder: LockInfo | None, what: str) -> StateLockedError:
    """The error for a lock we could not take; ``holder`` None when its details are not known."""
    if holder is None:
        return StateLockedError(
            "Error acquiring the state lock: state is locked by another process.\n"
            f"{what}\nThe holder has not recorded its details (it may be starting right now).\n"
            "Wait for it to finish, or use --lock-timeout."
        )
    return StateLockedError(
        "Error acquiring the state lock: state is locked by another process.\n"
        f"{holder.describe()}\n"
        "Wait for it to finish, use --lock-timeout, or if you are sure no process holds it:\n"
        f"reconciler force-unlock {holder.id}",
        lock_id=holder.id,
    )


def poll_until(attempt: Callable[[], T | None], timeout: float) -> T | None:
    """Call ``attempt`` until it returns a value or ``timeout`` seconds have passed (at least once)."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        result = attempt()
        if result is not None:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(POLL_SECONDS, remaining))
