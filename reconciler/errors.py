"""The project's own exceptions, in one tree.

    ReconcilerError
    ├── UserError                 printed without a traceback, exit 1
    │   ├── ManifestError         one or more problems, each with file:line:column
    │   ├── PlanStaleError        a saved plan no longer matches the state or the manifests
    │   ├── StateError            unreadable / conflicting state (serial lost, lineage mismatch)
    │   │   └── StateLockedError  another process holds the lock (carries the holder's details)
    │   │       └── LockLostError  this process held the lock and lost it (fenced: it writes and starts nothing more)
    │   ├── ConfigError           stack file / environment / flag problems found outside manifests
    │   ├── InvalidValueError     a value that does not fit (also a ValueError: pydantic validators)
    │   │   └── CodecError        a value the wire format cannot carry, or a wire value unreadable
    │   └── MissingOutputError    a reference to an output its run did not return (located)
    └── RemoteError               anything the VCD API answered or failed to answer
        ├── PermanentRemoteError  4xx other than 401/429: repeating the call will not help
        │   ├── NotFoundError     403/404 for a workflow or execution
        │   └── VersionNotSupportedError  406
        ├── AuthError             401 after one re-login, or bad credentials
        └── TemporaryRemoteError  429, 5xx, transport errors: may be retried (GETs) or looked up (starts)
            ├── OutcomeUnknownError  a start whose answer was lost: never repeat blindly
            └── EndpointUnreachableError  no answer for the give-up time: no more requests, no retry

Library errors are chained as ``__cause__``. Anything else reaching the CLI is a bug and gets a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


def closest(name: str, names: Sequence[str]) -> str | None:
    """The name meant, for a did-you-mean: the same but for case, or the closest (difflib)."""
    close = [n for n in names if n.lower() == name.lower()] or difflib.get_close_matches(name, names, n=1)
    return close[0] if close else None


class ReconcilerError(Exception):
    """Base of every error this project raises on purpose."""


class UserError(ReconcilerError):
    """A problem the user can fix: printed as a message, exit code 1, no traceback."""


@dataclass(frozen=True)
class SourceLocation:
    """A place in a user's file (1-based line and column); line 0 means 'the whole file'."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One manifest problem: where, and what."""

    location: SourceLocation
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ManifestError(UserError):
    """Every problem found in the stack file and manifests, each with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        unique = dict.fromkeys(problems)  # a forEach can report one place once per instance
        self.problems = sorted(unique, key=lambda p: (p.location.file, p.location.line, p.location.column))
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(UserError):
    """A configuration problem outside the manifests (flags, environment, stack settings)."""


class PlanStaleError(UserError):
    """A saved plan that can no longer be applied as it is."""


class StateError(UserError):
    """The state cannot be read or written as asked."""


class StateLockedError(StateError):
    """Another process holds the state lock."""

    def __init__(self, message: str, lock_id: str | None = None) -> None:
        self.lock_id = lock_id
        super().__init__(message)


class LockLostError(StateLockedError):
    """The lock this process held was taken away (session ended, lock broken, a newer generation):
    its writes are refused and it must start nothing more."""


class InvalidValueError(UserError, ValueError):
    """A value that does not fit where it is used (a text that is no number, a bad duration, ...).

    Also a ``ValueError``: pydantic turns only those into validation errors, and callers that parse
    a value with the standard library catch both at once."""


class CodecError(InvalidValueError):
    """A value that cannot be encoded as its declared type, or a wire value this client cannot read."""


class MissingOutputError(UserError):
    """A reference to an output that the referenced run did not return.

    ``location`` is where the reference is written (when known; `str` shows it first); ``available``
    the outputs the run has."""

    def __init__(self, run: str, output: str, available: list[str], location: SourceLocation | None = None) -> None:
        self.run = run
        self.output = output
        self.available = available
        self.location = location
        known = ", ".join(available) or "none"
        text = f"run {run!r} has no output {output!r} (it has: {known})"
        close = closest(output, available)
        if close:
            text += f"; did you mean {close!r}?"
        super().__init__(text)

    def __str__(self) -> str:
        """The message, after the location of the reference when it is known."""
        text = super().__str__()
        return f"{self.location}: {text}" if self.location else text

    @property
    def message(self) -> str:
        """The message without the location (for a `Problem`, which shows it on its own)."""
        return super().__str__()

    def located(self, location: SourceLocation | None) -> MissingOutputError:
        """The same error, placed where the reference is written."""
        return MissingOutputError(self.run, self.output, self.available, location)


class RemoteError(ReconcilerError):
    """The VCD API refused, failed or did not answer.

    ``status`` is the HTTP status when there was an answer; ``server_message`` the CloudAPI ``message``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        minor_code: str | None = None,
        server_message: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.status = status
        self.minor_code = minor_code
        self.server_message = server_message
        self.operation = operation
        super().__init__(message)


class PermanentRemoteError(RemoteError):
    """A 4xx answer: repeating the same call will fail the same way."""


class NotFoundError(PermanentRemoteError):
    """403/404: no such workflow or execution, or no right to read it."""


class TlsVerificationError(PermanentRemoteError):
    """The endpoint's TLS certificate cannot be verified: retrying cannot help, the setup must change."""


class VersionNotSupportedError(PermanentRemoteError):
    """406: the server does not speak the requested API version."""


class AuthError(RemoteError):
    """Login failed, or a call stayed unauthorized after one re-login."""


class TemporaryRemoteError(RemoteError):
    """429, 5xx or a transport failure: safe to retry for reads."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class OutcomeUnknownError(TemporaryRemoteError):
    """A request was sent but its answer was lost: it may or may not have been processed."""


class EndpointUnreachableError(TemporaryRemoteError):
    """The endpoint has answered nothing (or only 5xx) for the configured give-up time.

    Raised instead of sending any further request: an apply whose server died ends. Never retried."""
