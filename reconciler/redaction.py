"""Redaction: the secret values this command knows, removed from any text a server sent.

A server may echo a secret input in what it says: an execution's ``contentException`` ("password
'hunter2' rejected"), or the ``message`` of an error answer. Such text is stored (an execution's
``error`` in the state) and shown (apply's progress, plan's warnings, error lines), so every secret
value the tool knows — the ``SecureString`` inputs of the command's runs (``operations.apply``) and the
endpoint's credentials — becomes ``(sensitive)`` before anything else sees it. `Redactor` is the one
place that does it (pure); the client applies it to every error answer and execution it reads, so
no caller can forget (`reconciler.remote.client`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reconciler.parameters import SENSITIVE_MARK

SHORT = 6  # a secret shorter than this is redacted as a whole word only (see `_alternative`)


@dataclass(frozen=True)
class Redactor:
    """Replaces each known secret in a text with ``(sensitive)``; knows none by default."""

    secrets: tuple[str, ...] = ()  # longest first: a secret inside another leaves no part behind
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.secrets:
            pattern = re.compile("|".join(_alternative(s) for s in self.secrets))
            object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def of(cls, values: Iterable[Any]) -> Redactor:
        """A redactor of these secret values (strings, or lists / mappings of them; others ignored)."""
        unique = {s for s in _strings(values) if s}
        return cls(tuple(sorted(unique, key=lambda s: (-len(s), s))))

    def with_values(self, values: Iterable[Any]) -> Redactor:
        """This redactor, knowing ``values`` too."""
        return Redactor.of([*self.secrets, *values])

    def __call__(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(SENSITIVE_MARK, text)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)


def _alternative(secret: str) -> str:
    """A secret as a pattern: anywhere it appears; a short one only as a whole word, so that a
    password ``p`` does not turn every word with a ``p`` into ``(sensitive)`` (an echo of it still is)."""
    if len(secret) >= SHORT:
        return re.escape(secret)
    return rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"


def _strings(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple):
            yield from _strings(value)
        elif isinstance(value, dict):
            yield from _strings(value.values())
