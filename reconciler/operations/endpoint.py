"""What every operation that talks to the server needs before it opens a client: the endpoint's
settings (the stack file's ``spec.endpoint`` and the environment) and the secrets the client must
redact from what the server says. Neither opens a connection (``check``, ``show`` and ``plan`` take
them without the HTTP client's imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.desired.runs import DesiredStack
from reconciler.errors import ConfigError
from reconciler.operations.project import Project
from reconciler.redaction import Redactor
from reconciler.remote.settings import ApiSettings, settings_from


def api_settings(project: Project) -> ApiSettings:
    """The endpoint's settings; `ConfigError` when the stack names none and the environment neither."""
    endpoint = project.stack.spec.endpoint
    if endpoint is None and "RECONCILER_ENDPOINT" not in project.environ:
        raise ConfigError("reconciler.yaml has no spec.endpoint (and RECONCILER_ENDPOINT is not set)")
    data: Mapping[str, Any] = {} if endpoint is None else endpoint.model_dump(by_alias=True, exclude_none=True)
    return settings_from(data, project.environ, project.root)


def redactor_of(desired: DesiredStack) -> Redactor:
    """What the client must redact from the server's text: the secret inputs of these runs."""
    return Redactor.of(i.value for run in desired.runs.values() for i in run.inputs.values() if i.sensitive)
