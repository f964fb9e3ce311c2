"""Backoff for calls that may be repeated: bounded attempts, bounded total wait, Retry-After honoured.

Why a small loop instead of a library: the rules of SPEC 5.4 depend on *which* error came back (a lost
start is never repeated; a refused connection is), and tests must see every delay without sleeping. So
the policy is data (`RetryPolicy`), the decision is a predicate over our own exceptions, and ``sleep``
is injected: a test passes a fake that records delays.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import EndpointUnreachableError, OutcomeUnknownError, TemporaryRemoteError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
log = logging.getLogger("reconciler.remote")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``base * 2**n`` capped at ``max_delay``, at most ``attempts`` tries.

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
    """``await call()``, repeating it after retryable errors as ``policy`` allows."""
    waited = 0.0
    for retry in range(1, policy.attempts + 1):
        try:
            return await call()
        except TemporaryRemoteError as exc:
            pause = policy.delay(retry, exc.retry_after, rng)
            if not is_retryable(exc) or retry == policy.attempts or waited + pause > policy.max_total:
                raise
            log.debug("retry %d in %.2fs after: %s", retry, pause, exc)
            waited += pause
            await sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")
