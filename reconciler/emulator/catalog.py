"""The emulator's catalog: which workflows exist, how they behave, who may log in.

Why a catalog file: the emulator must stand in for a VCD whose workflows we do not have, so their
contract (inputs, outputs, timing, failure modes) is written down as data. One YAML file::

    apiVersions: ["37.1", "37.2"]          # optional; default 36.3, 37.0, 37.1, 37.2, 38.0
    workflows:
      - id: 6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a   # the {workflowId} of the API paths
        name: Provision VM                          # WsWorkflowExecution.name
        description: Clone a VM                     # optional, shown by .../presentation
        orgs: [acme]           # optional: only these tenants (and provider users) may see and run it
        inputs:
          - {name: vmName, type: string, description: Name of the VM}  # required: true is the default
          - {name: cpuCount, type: number, required: false, default: 1}
        outputs:
          - {name: vmId, type: string, template: "vm-${inputs.vmName|hash:8}", description: The VM's id}
          - {name: size, type: number, from: cpuCount}     # copy of an input
          - {name: zone, type: string, value: eu-1}        # constant
        duration: 2            # seconds from start to the end (default 2)
        initializing: 0.1      # of which the first seconds are `initializing` (default 0.1)
        runningItem: Clone VM  # currentItemDisplayName while running (default: the workflow name)
        waitStates:            # after `duration`, pass through these states in order, then end
          - {state: waiting, seconds: 1, item: Approve request}
        failWhen:              # first matching rule: the execution ends `failed`
          - {input: vmName, equals: bad, message: "VM name ${inputs.vmName} is refused"}
          - {input: cpuCount, in: [0, 99], after: 0.5}      # fails 0.5 s after the start
          - {input: vmName, matches: "^test-"}              # regular expression (re.search)
        hangWhen:              # first matching rule: never ends until canceled
          - {input: vmName, equals: stuck}
    users:
      - {name: admin, org: System, password: admin}        # org System = provider
      - {name: deployer, org: acme, password: deployer, roles: [Organization Administrator]}
    apiTokens:
      - {token: demo-token, user: admin, org: System}

Field reference (also in docs/emulator-catalog.md):

- ``inputs[]`` and ``outputs[]`` are what ``GET .../presentation`` declares: ``inputParameters`` and
  ``outputParameters`` (name, type, description, an input's default as its value), and one form
  field per input whose ``constraints`` hold ``{"constraintType": "Mandatory"}`` when the input is
  mandatory: ``required`` (the default) and without ``default``.
- ``orgs``: the tenants whose users may see and run the workflow; for others every workflow call
  answers as for an unknown workflow (403, or 404 with ``missing_status=404``).
- ``inputs[].type``: a vRO type string: ``string``, ``number``, ``boolean``, ``Date``, ``SecureString``,
  ``Array/<T>``, ``Properties``, ``PLUGIN:Type``. ``default`` applies when the input is not sent and
  must be a valid plain value of the type (see ``reconciler.parameters``).
- ``outputs[]``: exactly one of ``template`` (string-like types only; syntax in ``templates``),
  ``from`` (the name of an input of the same type; omitted when that input has no value) or
  ``value`` (a constant plain value).
- A rule has ``input`` and one of ``equals`` / ``in`` / ``matches``; a rule with none of these four
  always matches. ``failWhen`` rules also take ``message`` (a template; the ``contentException``) and
  ``after`` (seconds from the start; default: the normal end).
- ``users[].roles`` defaults to ``[System Administrator]`` in org ``System`` and to
  ``[Organization Administrator]`` elsewhere. Org names match case-insensitively, as in VCD.
- ``apiTokens[]``: API (refresh) tokens for ``POST /oauth/.../token``; each names an existing user.

Unknown keys are errors: a misspelt ``failwhen`` silently ignored would make a test pass for the
wrong reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from reconciler.emulator.templates import Template, TemplateError, parse_template
from reconciler.errors import ConfigError, InvalidValueError
from reconciler.parameters import ParamType, check_value, is_valid_type
from reconciler.textfiles import read_text

DEFAULT_API_VERSIONS = ("36.3", "37.0", "37.1", "37.2", "38.0")
DEMO_CATALOG_PATH = Path(__file__).with_name("demo-catalog.yaml")

_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STRING_LIKE = ("string", "SecureString", "Date")


class CatalogError(ConfigError):
    """A catalog file that cannot be read or does not follow the format."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel)


def _check_type(type_name: str) -> str:
    if not is_valid_type(type_name):
        raise InvalidValueError(f"unknown parameter type {type_name!r}")
    return type_name


class InputSpec(_Model):
    """One declared input parameter; mandatory (VCD's ``Mandatory`` constraint) when required and
    without a default."""

    name: Annotated[str, Field(pattern=_NAME)]
    type: str
    required: bool = True
    default: Any = None
    description: str = ""

    @model_validator(mode="after")
    def _valid(self) -> InputSpec:
        _check_type(self.type)
        if self.default is not None and (why := check_value(self.type, self.default)):
            raise InvalidValueError(f"default of {self.name!r}: {why}")
        return self

    @property
    def mandatory(self) -> bool:
        """A start without it is refused (400): required, and no default fills it in."""
        return self.required and self.default is None


class OutputSpec(_Model):
    """One declared output parameter and how it is computed."""

    name: Annotated[str, Field(pattern=_NAME)]
    type: str
    template: str | None = None
    from_: Annotated[str | None, Field(alias="from")] = None
    value: Any = None
    description: str = ""

    @model_validator(mode="after")
    def _valid(self) -> OutputSpec:
        _check_type(self.type)
        given = [k for k in ("template", "from_", "value") if k in self.model_fields_set]
        if len(given) != 1:
            raise InvalidValueError(f"output {self.name!r} needs exactly one of template, from, value")
        if self.template is not None:
            if self.type not in _STRING_LIKE:
                raise InvalidValueError(f"output {self.name!r}: template needs type string, SecureString or Date")
            self.parsed_template()
        if "value" in self.model_fields_set and (why := check_value(self.type, self.value)):
            raise InvalidValueError(f"value of {self.name!r}: {why}")
        return self

    def parsed_template(self) -> Template:
        try:
            return parse_template(self.template or "")
        except TemplateError as exc:
            raise InvalidValueError(f"output {self.name!r}: {exc}") from exc


class Rule(_Model):
    """A condition on one input; no input and no condition means 'always'."""

    input: str | None = None
    equals: Any = None
    in_: Annotated[list[Any] | None, Field(alias="in")] = None
    matches: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Rule:
        conditions = [k for k in ("equals", "in_", "matches") if k in self.model_fields_set]
        if self.input is None and conditions:
            raise InvalidValueError("a rule with equals/in/matches needs 'input'")
        if self.input is not None and len(conditions) != 1:
            raise InvalidValueError(f"rule on {self.input!r} needs exactly one of equals, in, matches")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise InvalidValueError(f"bad regular expression {self.matches!r}: {exc}") from exc
        return self

    def holds(self, inputs: dict[str, Any]) -> bool:
        if self.input is None:
            return True
        value = inputs.get(self.input)
        if "equals" in self.model_fields_set:
            return bool(value == self.equals)
        if self.in_ is not None:
            return value in self.in_
        return isinstance(value, str) and re.search(self.matches or "", value) is not None


class FailRule(Rule):
    """A rule that ends the execution ``failed`` with ``message`` as its contentException."""

    message: str = "Workflow failed (emulated failure rule)"
    after: Annotated[float | None, Field(ge=0)] = None

    @model_validator(mode="after")
    def _valid_message(self) -> FailRule:
        try:
            parse_template(self.message)
        except TemplateError as exc:
            raise InvalidValueError(f"failure message: {exc}") from exc
        return self


class WaitState(_Model):
    """A stretch of time in a non-running, in-progress state."""

    state: Literal["waiting", "waiting-signal", "suspended"]
    seconds: Annotated[float, Field(gt=0)]
    item: str | None = None


class Workflow(_Model):
    """One workflow: its contract and its emulated behaviour."""

    id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    inputs: list[InputSpec] = []
    outputs: list[OutputSpec] = []
    orgs: list[Annotated[str, Field(min_length=1)]] | None = None
    duration: Annotated[float, Field(ge=0)] = 2.0
    initializing: Annotated[float, Field(ge=0)] = 0.1
    running_item: str | None = None
    wait_states: list[WaitState] = []
    fail_when: list[FailRule] = []
    hang_when: list[Rule] = []

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        inputs = {i.name: i for i in self.inputs}
        _unique([i.name for i in self.inputs], "input")
        _unique([o.name for o in self.outputs], "output")
        for rule in [*self.fail_when, *self.hang_when]:
            if rule.input is not None and rule.input not in inputs:
                raise InvalidValueError(f"rule names unknown input {rule.input!r}")
        for output in self.outputs:
            _check_output_sources(output, inputs)
        return self

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def readable_by(self, org: str, *, provider: bool) -> bool:
        """Whether users of ``org`` may see and run it: provider users always, tenants when listed in
        ``orgs`` (or when ``orgs`` is not given). Org names match case-insensitively, as in VCD."""
        return provider or self.orgs is None or org.lower() in {o.lower() for o in self.orgs}


def _check_output_sources(output: OutputSpec, inputs: dict[str, InputSpec]) -> None:
    if output.from_ is not None:
        source = inputs.get(output.from_)
        if source is None:
            raise InvalidValueError(f"output {output.name!r} copies unknown input {output.from_!r}")
        if source.type != output.type:
            raise InvalidValueError(f"output {output.name!r} ({output.type}) copies {source.name!r} ({source.type})")
    if output.template is not None:
        unknown = output.parsed_template().input_names - set(inputs)
        if unknown:
            raise InvalidValueError(f"output {output.name!r} uses unknown inputs {sorted(unknown)}")


class User(_Model):
    """A user who may log in with Basic ``name@org:password``."""

    name: Annotated[str, Field(min_length=1)]
    org: Annotated[str, Field(min_length=1)]
    password: str
    roles: list[str] | None = None

    @property
    def is_provider(self) -> bool:
        return self.org.lower() == "system"

    @property
    def role_names(self) -> list[str]:
        if self.roles is not None:
            return self.roles
        return ["System Administrator"] if self.is_provider else ["Organization Administrator"]

    @property
    def is_admin(self) -> bool:
        return self.is_provider or any("Administrator" in role for role in self.role_names)


class ApiToken(_Model):
    """An API (refresh) token standing for one user."""

    token: Annotated[str, Field(min_length=1)]
    user: str
    org: str


class Catalog(_Model):
    """The whole catalog file."""

    api_versions: Annotated[list[str], Field(min_length=1)] = list(DEFAULT_API_VERSIONS)
    workflows: list[Workflow] = []
    users: list[User] = []
    api_tokens: list[ApiToken] = []

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        _unique([w.id for w in self.workflows], "workflow id")
        _unique([f"{u.name}@{u.org.lower()}" for u in self.users], "user")
        _unique([t.token for t in self.api_tokens], "API token")
        for token in self.api_tokens:
            if self.user(token.user, token.org) is None:
                raise InvalidValueError(f"API token names unknown user {token.user}@{token.org}")
        return self

    def workflow(self, workflow_id: str) -> Workflow | None:
        return next((w for w in self.workflows if w.id == workflow_id), None)

    def user(self, name: str, org: str) -> User | None:
        return next((u for u in self.users if u.name == name and u.org.lower() == org.lower()), None)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidValueError(f"duplicate {what} {name!r}")
        seen.add(name)


def parse_catalog(text: str, source: str = "<catalog>") -> Catalog:
    """Parse catalog YAML; raises CatalogError with one line per problem."""
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)  # libyaml: safe, and ~10x faster at every start
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: expected a mapping with 'workflows', 'users', 'apiTokens'")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(f"{source}: invalid catalog\n{_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where or '(top)'}: {message}")
    return "\n".join(lines)


def read_catalog(path: str | Path) -> Catalog:
    """Read and parse a catalog file."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from exc
    return parse_catalog(text, str(path))


def is_secret_type(type_name: str) -> bool:
    """Whether values of this type are masked when echoed back."""
    return ParamType(type_name).is_sensitive
