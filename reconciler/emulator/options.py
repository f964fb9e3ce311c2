"""`EmulatorOptions`: every knob of one emulator, in one place (the CLI's options, a test's choices).

``create_app(catalog, options)`` builds the server they describe; ``serve`` and ``reconciler
emulator`` pass them through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reconciler.emulator.faults import ALL_FAULT_KINDS
from reconciler.emulator.wire import ValueFormat
from reconciler.errors import InvalidValueError

StateFormat = Literal["string", "object"]


@dataclass(frozen=True)
class EmulatorOptions:
    """How one emulator answers. Faults and latency are checked by `faults.FaultPolicy`."""

    latency: float = 0.0  # seconds added before each answer
    fault_rate: float = 0.0  # share of faultable calls answered with an injected fault
    fault_kinds: Sequence[str] = ALL_FAULT_KINDS  # the faults drawn from (see `faults`)
    fault_login: bool = False  # the login calls may get faults too
    seed: int | None = None  # seeds the fault draws and the execution ids: repeatable runs
    # The format of parameter values in answers, whatever a start sent: ``openapi`` (the 37.2
    # definitions' ``Parameter``) or ``vro`` (Orchestrator's wire form, outside the definitions).
    output_format: ValueFormat = "openapi"
    nulls: bool = False  # unset execution fields as JSON null instead of left out (as VCD does in places)
    state_format: StateFormat = "string"  # ``/state`` as a bare string or ``{"value": ...}`` (vRO)
    missing_status: Literal[403, 404] = 403  # what hides what the caller may not see
    retry_after: int = 1  # the ``Retry-After`` of injected 429/503 answers
    session_idle_timeout: float = 30 * 60.0  # seconds a session may go unused before its token is refused
    max_body_bytes: int = 1_048_576  # larger request bodies are refused with 413

    def __post_init__(self) -> None:
        if self.session_idle_timeout <= 0:
            raise InvalidValueError(f"the session idle timeout must be > 0 seconds, got {self.session_idle_timeout}")
        if self.max_body_bytes < 1:
            raise InvalidValueError(f"the body size limit must be >= 1 byte, got {self.max_body_bytes}")
