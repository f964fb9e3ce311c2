"""The VCD workflow API client: settings, parameter codecs, auth, retries, exactly-once starts.

Only this package talks HTTP (import-linter contract). The applier uses `WorkflowClient`; the
records it returns (`Execution`, `ExecutionSummary` in `executions`; `WorkflowDefinition` from `reconciler.definitions`) carry
plain values. The package exports what a caller needs to build a client.
"""

from reconciler.remote.client import WorkflowClient
from reconciler.remote.exactly_once import ANY_USER, LookupPolicy
from reconciler.remote.retrying import RetryPolicy
from reconciler.remote.settings import ApiSettings

__all__ = ["ANY_USER", "ApiSettings", "LookupPolicy", "RetryPolicy", "WorkflowClient"]
