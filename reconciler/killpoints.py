"""Named crash points, for the torture tests only.

``RECONCILER_KILL_AT=NAME[:N]`` makes the N-th (default: first) `reach` of ``NAME`` in this process
send SIGKILL to itself, the way a power cut or the OOM killer would stop it at exactly that moment.
Unset (always, for users), `reach` is one comparison. The variable is read at the first `reach`,
not at import (the tests fork commands from a process that imported this module). Names in use:

- ``intent-durable``   engine: a start's intent is durable, the request is not sent yet
- ``start-answered``   engine: the start answer arrived, the execution id is not recorded yet
- ``journal-appended`` backends: a group of events is durable (local journal / postgres commit)
- ``backup-written``   local backend: the ``.backup`` is replaced (a command's first change: before its
                       first journal append, or before a whole-state write), the change not made yet
- ``state-replaced``   local backend: the state file is replaced, the journal not yet removed
- ``temp-written``     local backend: a temporary file is written and synced, not yet renamed
"""

from __future__ import annotations

import os
import signal

_point: tuple[str, int] | None = None  # (name, N), read from the environment at the first reach
_seen = 0


def reach(name: str) -> None:
    """SIGKILL this process if it is the configured kill point's N-th reach; nothing otherwise."""
    global _point, _seen
    if _point is None:
        spec_name, _, count = os.environ.get("RECONCILER_KILL_AT", "").partition(":")
        _point = (spec_name, int(count) if count.isdigit() else 1)
    if name != _point[0]:
        return
    _seen += 1
    if _seen == _point[1]:
        os.kill(os.getpid(), signal.SIGKILL)
