"""Whether the VCD endpoint answers, and when to give up on it.

Every request the client sends reports its fate here. An answer (any status below 500, 429
included: a throttling server is there) means the endpoint is up; a transport failure or a 5xx means
it is not. An *outage* lasts from the first such failure after the last answer until the next answer.
Two things hang on it:

- notices, for the user: one when an outage has lasted ``notice_after`` (a lone 502 in a storm of
  answers is no outage worth a line), and one when the endpoint answers again after a noticed
  outage. One line per outage, never one per request.
- giving up: once an outage has lasted ``give_up_after``, `check` raises `EndpointUnreachableError`
  for every further request (the client calls it before sending), and `time_left` lets the client
  cut a retry's backoff short so that it ends on time. An apply whose server died thus ends.

Time is the event loop's clock (``loop.time()``), so that tests on a virtual-time loop see an hour of
outage in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from reconciler.errors import EndpointUnreachableError

DEFAULT_GIVE_UP_AFTER = 300.0
MAX_NOTICE_AFTER = 5.0


@dataclass(frozen=True)
class Notice:
    """The endpoint became unreachable (``reachable`` False) or answers again (True)."""

    reachable: bool
    message: str


NoticeListener = Callable[[Notice], None]


@dataclass
class Reachability:
    endpoint: str
    give_up_after: float = DEFAULT_GIVE_UP_AFTER
    clock: Callable[[], float] | None = None  # the running loop's time when None
    _down_since: float | None = None
    _last_answer: float = float("-inf")
    _last_error: str = ""
    _noticed: bool = False
    _listeners: list[NoticeListener] = field(default_factory=list)

    @property
    def notice_after(self) -> float:
        return min(MAX_NOTICE_AFTER, self.give_up_after / 2)

    def subscribe(self, listener: NoticeListener) -> Callable[[], None]:
        """Call ``listener`` with each notice; returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def now(self) -> float:
        return self.clock() if self.clock is not None else asyncio.get_running_loop().time()

    def answered(self) -> None:
        """A request got an answer: the endpoint is up (again)."""
        self._last_answer = self.now()
        if self._down_since is None:
            return
        down_for = self._last_answer - self._down_since
        self._down_since = None
        if self._noticed:
            self._noticed = False
            self._notify(Notice(True, f"the VCD endpoint {self.endpoint} answers again (after {down_for:.0f}s)"))

    def failed(self, error: str, sent_at: float) -> None:
        """A request sent at ``sent_at`` got no answer, or a 5xx: ``error`` says which."""
        self._last_error = error
        if self._down_since is None:
            self._down_since = max(sent_at, self._last_answer)
        if self.now() - self._down_since >= self.notice_after:
            self._notice_outage()

    def time_left(self) -> float | None:
        """Seconds until apply gives up, during an outage; None while the endpoint answers."""
        if self._down_since is None:
            return None
        return self._down_since + self.give_up_after - self.now()

    def check(self, operation: str) -> None:
        """Raise `EndpointUnreachableError` (naming the endpoint) once the outage lasted the give-up time."""
        left = self.time_left()
        if left is not None and left <= 0:
            self._notice_outage()
            raise EndpointUnreachableError(
                f"gave up on the VCD endpoint {self.endpoint}: no answer for {self.give_up_after:g}s "
                f"(last error: {self._last_error}); {operation} not sent",
                operation=operation,
            )

    def _notice_outage(self) -> None:
        if self._noticed:
            return
        self._noticed = True
        message = (
            f"the VCD endpoint {self.endpoint} is not answering ({self._last_error}); "
            f"giving up after {self.give_up_after:g}s without an answer"
        )
        self._notify(Notice(False, message))

    def _notify(self, notice: Notice) -> None:
        for listener in list(self._listeners):
            listener(notice)
