"""The VCD workflow API client: settings, parameter codecs, auth, retries, exactly-once starts.

Only this package talks HTTP (import-linter contract). The applier uses `WorkflowClient`; the
records it returns (`Execution`, `ExecutionSummary`, `ParameterDefinition`) carry plain values.
"""

from reconciler.errors import CodecError
from reconciler.remote.client import ANY_USER, LookupPolicy, WorkflowClient
from reconciler.remote.codecs import decode, decode_parameter, encode, ws_parameter
from reconciler.remote.executions import (
    IN_PROGRESS_STATES,
    TERMINAL_STATES,
    Execution,
    ExecutionSummary,
    ParameterDefinition,
    parse_date,
)
from reconciler.remote.retrying import RetryPolicy
from reconciler.remote.settings import ApiSettings, settings_from

__all__ = [
    "ANY_USER",
    "IN_PROGRESS_STATES",
    "TERMINAL_STATES",
    "ApiSettings",
    "CodecError",
    "Execution",
    "ExecutionSummary",
    "LookupPolicy",
    "ParameterDefinition",
    "RetryPolicy",
    "WorkflowClient",
    "decode",
    "decode_parameter",
    "encode",
    "parse_date",
    "settings_from",
    "ws_parameter",
]
