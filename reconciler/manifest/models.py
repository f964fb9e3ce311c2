"""The two file formats as strict pydantic models: the stack file (SPEC 2.1) and WorkflowRun (2.2).

Strict on purpose: unknown fields are errors (a misspelt ``dependsOn`` must not be ignored), and no
type is coerced (``verifyTls: "no"`` is a string, not false). Fields are snake_case in Python and
camelCase in the files. Parameter values, ``forEach`` and variable defaults are left as plain data
here: their rules depend on a declared type and on interpolation, so `reconciler.desired` checks
them with better messages than a union of models would give; their JSON schema is still exact.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel

from reconciler.errors import InvalidValueError
from reconciler.manifest.defaults import DEFAULT_ENDPOINT_API_VERSION
from reconciler.manifest.durations import DURATION, duration_seconds, seconds_of
from reconciler.manifest.interpolation import NAME_PATTERN, VARIABLE_PATTERN

API_VERSION = "reconciler/v1"
MAX_NAME_LENGTH = 253


def _check_duration(text: str) -> str:
    """``text`` when it is a duration (ValueError otherwise): the model's check of ``timeout``."""
    duration_seconds(text)
    return text


class StrictModel(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", alias_generator=to_camel, validate_by_name=False, frozen=True
    )


RunName = Annotated[str, Field(pattern=f"^{NAME_PATTERN}$", min_length=1, max_length=MAX_NAME_LENGTH)]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION.pattern, "examples": ["30m", "1h30m"]}),
]


def _check_span(value: Any) -> Any:
    seconds_of(value)  # accepts only a duration text or a positive number
    return value if isinstance(value, str) else float(value)  # an int is kept as the float the field holds


# A duration, or a positive number of seconds where fractions make sense (request timeouts in tests).
Span = Annotated[
    str | float,
    PlainValidator(_check_span),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION.pattern, "examples": ["30s", "5m"]},
                {"type": "number", "exclusiveMinimum": 0},
            ]
        }
    ),
]

_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_PARAMETER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            _SCALAR_SCHEMA,
            {"type": "array", "items": _SCALAR_SCHEMA},
            {"$ref": "#/$defs/ExplicitParameter"},
        ]
    },
}
Parameters = Annotated[dict[str, Any], WithJsonSchema(_PARAMETER_SCHEMA)]
ForEach = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "object"},
                {"type": "string", "description": "a ${var.NAME} holding a list or a mapping"},
                {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            {"type": ["string", "number"]},
                            {"type": "object", "required": ["name"], "description": "keyed by its name"},
                        ]
                    },
                },
            ]
        },
    ),
]


class EnvRef(StrictModel):
    """``{env: NAME}``: a value read from the environment, never written in a file."""

    env: str = Field(min_length=1)


class ValueFrom(StrictModel):
    """Where a parameter's value comes from: exactly one of an environment variable or a file."""

    env: str | None = Field(default=None, min_length=1)
    file: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> ValueFrom:
        if (self.env is None) == (self.file is None):
            raise InvalidValueError("needs exactly one of env or file")
        return self


class ExplicitParameter(StrictModel):
    """The explicit form of a parameter: ``{type: number, value: 8}`` or ``{type: ..., valueFrom: ...}``."""

    type: str = Field(min_length=1)
    value: Any = None
    value_from: ValueFrom | None = None
    description: str | None = None


# ---------------------------------------------------------------- WorkflowRun


class RunMetadata(StrictModel):
    name: RunName
    labels: dict[str, str] = Field(default_factory=dict)


class RunSpec(StrictModel):
    workflow: str = Field(min_length=1)
    parameters: Parameters = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    revision: int = Field(default=1, ge=1)
    timeout: Duration | None = Field(default=None, description="default: the stack's spec.defaults.timeout (1h)")
    on_failure: Literal["stop", "retry"] | None = Field(
        default=None, description="default: the stack's spec.defaults.onFailure (stop)"
    )
    max_attempts: int | None = Field(
        default=None, ge=1, description="default: the stack's spec.defaults.maxAttempts, else 3 with retry, 1 with stop"
    )
    for_each: ForEach = None
    moved_from: list[str] = Field(
        default_factory=list,
        description="earlier names of this run: a record under one of them (and none under this name) is "
        "renamed to this name by apply, and nothing starts for the rename",
    )
    ignore_changes: list[str] = Field(
        default_factory=list,
        description="parameters kept out of the run key: a change to them alone re-runs nothing "
        "(their values are still sent when the run starts)",
    )


class WorkflowRun(StrictModel):
    """One ``kind: WorkflowRun`` document."""

    model_config = ConfigDict(title="WorkflowRun")

    api_version: Literal["reconciler/v1"]
    kind: Literal["WorkflowRun"]
    metadata: RunMetadata
    spec: RunSpec


# ---------------------------------------------------------------- Stack


class Auth(StrictModel):
    """Session login (``username`` + ``passwordFrom``) or an API token (``apiTokenFrom``), not both."""

    username: str | None = None
    password_from: EnvRef | None = None
    api_token_from: EnvRef | None = None

    @model_validator(mode="after")
    def _one_flow(self) -> Auth:
        if self.api_token_from is not None and (self.username or self.password_from):
            raise InvalidValueError("use either username/passwordFrom or apiTokenFrom, not both")
        if self.password_from is not None and not self.username:
            raise InvalidValueError("passwordFrom needs a username")
        return self


DEFAULT_TIMEOUT = "1h"
DEFAULT_GIVE_UP_AFTER = "5m"
DEFAULT_REQUEST_TIMEOUT = "30s"


class RunDefaults(StrictModel):
    """``spec.defaults``: what every run that does not set its own takes."""

    timeout: Duration = Field(default=DEFAULT_TIMEOUT, description="how long apply waits for an execution")
    on_failure: Literal["stop", "retry"] = "stop"
    max_attempts: int | None = Field(default=None, ge=1, description="default 3 with retry, 1 with stop")


class Endpoint(StrictModel):
    url: str | None = None
    api_version: str = DEFAULT_ENDPOINT_API_VERSION
    org: str | None = None
    auth: Auth | None = None
    verify_tls: bool = True
    ca_file: str | None = Field(
        default=None,
        min_length=1,
        description="PEM bundle of the CAs to trust for this endpoint instead of the system store "
        "(relative to this file); env RECONCILER_CA_FILE overrides",
    )
    value_format: Literal["openapi", "vro"] = "openapi"
    request_timeout: Span = Field(
        default=DEFAULT_REQUEST_TIMEOUT,
        description="how long one request may take (a duration such as 30s, or seconds); also how long an "
        "apply that takes over a lock lost by another waits for that one's starts in flight",
    )
    give_up_after: Span = Field(
        default=DEFAULT_GIVE_UP_AFTER,
        description="apply gives up on a server that answers nothing (or only 5xx) for this long; "
        "env RECONCILER_GIVE_UP_AFTER overrides",
    )


class Backend(StrictModel):
    type: Literal["local", "postgres"] = "local"
    path: str = Field(default="reconciler.state.json", min_length=1)
    dsn_from: EnvRef | None = None
    workspace: str = Field(default="default", min_length=1)
    schema_: str = Field(
        default="reconciler",
        alias="schema",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=63,
        description="postgres: the schema that holds the tables (created when missing)",
    )

    @model_validator(mode="after")
    def _postgres_needs_dsn(self) -> Backend:
        if self.type == "postgres" and self.dsn_from is None:
            raise InvalidValueError("the postgres backend needs dsnFrom: {env: NAME}")
        return self


VariableType = Literal["string", "number", "boolean", "list", "map", "any"]


class Variable(StrictModel):
    """A declared stack variable; ``default`` absent means the variable must be set."""

    default: Any = None
    description: str | None = None
    type: VariableType = "any"
    sensitive: bool = False

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class StackMetadata(StrictModel):
    name: str = Field(min_length=1)


class StackSpec(StrictModel):
    endpoint: Endpoint | None = None
    backend: Backend = Field(default_factory=Backend)
    manifests: list[str] = Field(default_factory=lambda: ["manifests"], min_length=1)
    parallelism: int = Field(default=10, ge=1)
    defaults: RunDefaults = Field(default_factory=RunDefaults)
    variables: dict[Annotated[str, Field(pattern=f"^{VARIABLE_PATTERN}$")], Variable] = Field(default_factory=dict)


class StackConfig(StrictModel):
    """The stack file ``reconciler.yaml``."""

    model_config = ConfigDict(title="Stack")

    api_version: Literal["reconciler/v1"]
    kind: Literal["Stack"]
    metadata: StackMetadata
    spec: StackSpec = Field(default_factory=StackSpec)
