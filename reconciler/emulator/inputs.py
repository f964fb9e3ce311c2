"""Reading a start request: the ``ExecutionContext`` body checked against the workflow's inputs.

Every refusal is a 400 whose message names the parameter, because that message is what a user of
the tool will read ("An HTTP error names the run, the operation, the status and the server's
message"). Values are read in either format (``openapi`` or ``vro``); answers use the server's
(`EmulatorOptions.output_format`).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.answers import bad_request
from reconciler.emulator.catalog import Workflow
from reconciler.emulator.wire import WireError, decode

_PARAMETER_KEYS = {"name", "type", "scope", "value", "encryptValue", "description", "updated"}


def read_inputs(workflow: Workflow, body: Any) -> dict[str, Any]:
    """The plain inputs, defaults applied; CloudApiError 400 when invalid."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be an ExecutionContext object")
    parameters = body.get("parameters") or []
    if not isinstance(parameters, list):
        raise bad_request("'parameters' must be a list of WsParameter")
    inputs: dict[str, Any] = {}
    for parameter in parameters:
        name, value = _read_parameter(workflow, parameter)
        if name in inputs:
            raise bad_request(f"Input parameter '{name}' is given more than once")
        if value is not None:
            inputs[name] = value
    return _complete(workflow, inputs)


def _read_parameter(workflow: Workflow, parameter: Any) -> tuple[str, Any]:
    if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
        raise bad_request("Each parameter must be a WsParameter object with a 'name'")
    name = parameter["name"]
    unknown_keys = set(parameter) - _PARAMETER_KEYS
    if unknown_keys:
        raise bad_request(f"Input parameter '{name}' has unknown fields {sorted(unknown_keys)}")
    spec = workflow.input(name)
    if spec is None:
        raise bad_request(f"Unknown input parameter '{name}' for workflow '{workflow.name}'")
    sent_type = parameter.get("type")
    if sent_type is not None and str(sent_type).lower() != spec.type.lower():
        raise bad_request(f"Input parameter '{name}' has type '{sent_type}', expected '{spec.type}'")
    if parameter.get("scope") not in (None, "local"):
        raise bad_request(f"Input parameter '{name}' must have scope 'local'")
    value = parameter.get("value")
    if value is None:
        return name, None
    try:
        return name, decode(spec.type, value)
    except WireError as exc:
        raise bad_request(f"Invalid value for input parameter '{name}' ({spec.type}): {exc}") from exc


def _complete(workflow: Workflow, inputs: dict[str, Any]) -> dict[str, Any]:
    complete = dict(inputs)
    for spec in workflow.inputs:
        if spec.name in complete:
            continue
        if spec.default is not None:
            complete[spec.name] = spec.default
        elif spec.required:
            raise bad_request(f"Missing required input parameter '{spec.name}' ({spec.type})")
    return complete
