"""Backoff for calls that may be repeated: bounded attempts, bounded total wait, Retry-After honoured.

Why a small loop instead of a library: the rules of SPEC 5.4 depend on *which* error came back (a lost
start is never repeated; a refused connection is), and tests must see every delay without sleeping. So
the policy is data (`RetryPolicy`), the decision is a predicate over our own exceptions, and ``sleep``
is injected: a test passes a fake that records delays.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote

from reconciler.errors import EndpointUnreachableError, OutcomeUnknownError, TemporaryRemoteError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
log = logging.getLogger("reconciler.remote")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``base * 2**n`` capped at ``max_delay``, at most ``attempts``
    failures (answers with a ``Retry-After`` do not count: see `retrying`).

    A ``Retry-After`` longer than the computed delay wins; the call gives up (raising the last error)
    when the next wait would take the total waiting time past ``max_total``.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_total: float = 60.0
    jitter: float = 0.25  # +/- this fraction of the delay

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        backoff *= 1 + self.jitter * (2 * rng.random() - 1)
        return float(max(backoff, retry_after or 0.0))


def is_retryable(exc: BaseException) -> bool:
    """Temporary failures may be repeated, except a start whose answer was lost and an endpoint given up on."""
    return isinstance(exc, TemporaryRemoteError) and not isinstance(exc, OutcomeUnknownError | EndpointUnreachableError)


async def retrying(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Sleep,
    rng: random.Random,
) -> T:
    """``await call()``, repeating it after retryable errors as ``policy`` allows.

    An answer that says when to come back (``Retry-After``: a busy server's 429 or 503, nothing
    processed) costs waiting time, bounded by ``max_total``, not one of the ``attempts``: under load
    a server may push back many times, and every pushback was honoured."""
    waited = 0.0
    failed = 0  # failures that count against ``attempts``
    retry = 0
    while True:
        retry += 1
        try:
            return await call()
        except TemporaryRemoteError as exc:
            failed += exc.retry_after is None
            pause = policy.delay(retry, exc.retry_after, rng)
            if not is_retryable(exc) or failed >= policy.attempts or waited + pause > policy.max_total:
                raise
            log.debug("retry %d in %.2fs after: %s", retry, pause, exc)
            waited += pause
            await sleep(pause)


PushbackListener = Callable[[str, int, float | None], None]  # (workflow id, status, Retry-After seconds)
_WORKFLOW_PATH = re.compile(r"/cloudapi/workflows/([^/]+)/")


class Pushback:
    """Tells its listeners of every 429 / 503 ("not processed, come back later") the client receives for
    a workflow's calls, including the ones it retries itself: the apply engine cuts that workflow's
    requests in flight (`reconciler.applying.pacing`)."""

    def __init__(self) -> None:
        self._listeners: list[PushbackListener] = []

    def subscribe(self, listener: PushbackListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def report(self, path: str, status: int, retry_after: float | None) -> None:
        found = _WORKFLOW_PATH.match(path)
        if found is None:
            return
        workflow = unquote(found.group(1))
        for listener in list(self._listeners):
            listener(workflow, status, retry_after)
