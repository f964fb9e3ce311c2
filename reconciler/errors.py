"""The project's own exceptions, in one tree.

    ReconcilerError
    ├── UserError                 printed without a traceback, exit 1
    │   ├── ManifestError         one or more problems, each with file:line:column
    │   ├── PlanStaleError        a saved plan no longer matches the state or the manifests
    │   ├── StateError            unreadable / conflicting state (serial lost, lineage mismatch)
    │   │   └── StateLockedError  another process holds the lock (carries the holder's details)
    │   └── ConfigError           stack file / environment / flag problems found outside manifests
    └── RemoteError               anything the VCD API answered or failed to answer
        ├── PermanentRemoteError  4xx other than 401/429: repeating the call will not help
        │   ├── NotFoundError     403/404 for a workflow or execution
        │   └── VersionNotSupportedError  406
        ├── AuthError             401 after one re-login, or bad credentials
        └── TemporaryRemoteError  429, 5xx, transport errors: may be retried (GETs) or looked up (starts)
            └── OutcomeUnknownError  a start whose answer was lost: never repeat blindly

Library errors are chained as ``__cause__``. Anything else reaching the CLI is a bug and gets a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


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
