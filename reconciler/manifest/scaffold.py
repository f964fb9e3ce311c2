"""The texts ``reconciler init`` writes: a stack file for an endpoint, and a WorkflowRun manifest with
every input a workflow declares. Pure: answers or a definition in, YAML text out.

Both texts are written by hand rather than dumped, for the comments (what to edit, each input's
description, which inputs are required) and for the manifest format's own rules, which a generic dumper
does not know:

- a value is written as shorthand only when the shorthand reads back as the declared type
  (`reconciler.parameters.infer_type`), in the explicit form ``{type: T, value: V}`` otherwise;
- a ``SecureString`` is never a value: ``valueFrom: {env: NAME}`` with a name derived from the run and
  the input (`secret_env_name`);
- a string keeps its meaning: ``${`` is written ``$${``, and a scalar is quoted whenever either YAML
  reading (the manifests' 1.2 core, or 1.1 as other tools read it) would see something else in it.

A mandatory input gets its declared default, or a placeholder of its type that the user must edit;
an optional one its declared default (commented out when it has none, so nothing is sent for it).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from reconciler.definitions import ParameterDefinition, WorkflowDefinition
from reconciler.errors import InvalidValueError
from reconciler.manifest.models import API_VERSION, MAX_NAME_LENGTH
from reconciler.manifest.parsing import parse_value
from reconciler.manifest.validating import run_name_problem
from reconciler.parameters import ParamType, check_value, infer_type, is_valid_type

PLACEHOLDER = "CHANGE-ME"
PLACEHOLDER_DATE = "2000-01-01T00:00:00.000Z"
DEFAULT_RUN_NAME = "run"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
# what PyYAML's reader refuses anywhere in a stream (yaml.reader.Reader.NON_PRINTABLE), tabs and newlines aside
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

AuthKind = Literal["session", "token"]
BackendKind = Literal["local", "postgres"]


# ---------------------------------------------------------------- the stack file


@dataclass(frozen=True)
class StackAnswers:
    """What ``reconciler init`` asks for a stack file: where the endpoint is, how to log in (the NAME of
    the environment variable that holds the secret, never the secret), and where the state lives."""

    name: str
    url: str
    api_version: str
    org: str
    auth: AuthKind
    secret_env: str  # the environment variable holding the password (session) or the API token
    username: str | None = None  # session login only
    verify_tls: bool = True
    ca_file: str | None = None
    backend: BackendKind = "local"
    state_path: str = "reconciler.state.json"
    dsn_env: str = "RECONCILER_PG_DSN"  # postgres only
    workspace: str = "default"  # postgres only
    manifests: str = "manifests"


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint URL; None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an endpoint URL: expected https://HOST[:PORT] (or http:// for a local emulator)"
    if parts.query or parts.fragment:
        return f"{url!r}: an endpoint URL has no query or fragment"
    return None


def env_name_problem(name: str, what: str) -> str | None:
    """Why ``name`` cannot name the environment variable holding ``what``; None when it can."""
    if ENV_NAME.match(name):
        return None
    return (
        f"{name!r} is not an environment variable name (letters, digits and _, not starting with a digit); "
        f"give the NAME of the variable that holds the {what}, never the {what} itself"
    )


def answers_problems(answers: StackAnswers) -> list[str]:
    """Everything wrong with ``answers`` (the stack loader checks the rest of the file's rules)."""
    problems = [p for p in (url_problem(answers.url),) if p]
    secret = "password" if answers.auth == "session" else "API token"
    checks = [(answers.secret_env, secret)]
    if answers.backend == "postgres":
        checks.append((answers.dsn_env, "PostgreSQL connection string"))
    problems += [p for name, what in checks if (p := env_name_problem(name, what))]
    if answers.auth == "session" and not answers.username:
        problems.append("a session login needs a username")
    for label, value in (("stack name", answers.name), ("API version", answers.api_version), ("org", answers.org)):
        if not value.strip():
            problems.append(f"the {label} is empty")
    return problems


def stack_text(answers: StackAnswers) -> str:
    """The ``reconciler.yaml`` for ``answers`` (`InvalidValueError` when `answers_problems` finds any)."""
    problems = answers_problems(answers)
    if problems:
        raise InvalidValueError("; ".join(problems))
    secret = "password" if answers.auth == "session" else "API token"
    lines = [
        "# Written by `reconciler init`. No secret is kept in this file: the "
        f"{secret} is read from the environment variable named below.",
        f"apiVersion: {API_VERSION}",
        "kind: Stack",
        "metadata:",
        f"  name: {_scalar(answers.name)}",
        "spec:",
        "  endpoint:",
        f"    url: {_scalar(answers.url.strip().rstrip('/'))}  # env RECONCILER_ENDPOINT overrides",
        f"    apiVersion: {_quoted(answers.api_version)}  # sent as Accept: application/json;version=...",
        f"    org: {_scalar(answers.org)}  # the tenant org; System for a provider login",
        "    auth:",
    ]
    if answers.auth == "session":
        lines += [
            f"      username: {_scalar(answers.username or '')}",
            f"      passwordFrom: {{env: {_scalar(answers.secret_env)}}}  # the password is read from this variable",
        ]
    else:
        lines.append(
            f"      apiTokenFrom: {{env: {_scalar(answers.secret_env)}}}  # the API token is read from this variable"
        )
    lines.append(f"    verifyTls: {_scalar(answers.verify_tls)}")
    if answers.ca_file:
        lines.append(f"    caFile: {_scalar(answers.ca_file)}  # relative to this file")
    lines += ["  backend:", f"    type: {answers.backend}"]
    if answers.backend == "local":
        lines.append(f"    path: {_scalar(answers.state_path)}")
    else:
        lines += [
            f"    dsnFrom: {{env: {_scalar(answers.dsn_env)}}}  # postgresql://user@host/db, read from this variable",
            f"    workspace: {_scalar(answers.workspace)}",
        ]
    lines += [
        f"  manifests: [{_scalar(answers.manifests)}]  # files or folders of WorkflowRun manifests",
        "  parallelism: 10  # concurrent API requests",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- a WorkflowRun manifest


@dataclass(frozen=True)
class RunScaffold:
    """A manifest's text, and what the user must do before ``plan``."""

    text: str
    run_name: str
    secret_envs: tuple[str, ...]  # environment variables its SecureString inputs are read from
    placeholders: tuple[str, ...]  # inputs given a placeholder: to edit
    commented: tuple[str, ...]  # inputs written as a comment only (optional without default, or untyped)


def run_name_for(definition: WorkflowDefinition) -> str:
    """A run name from the workflow's name (``Provision VM`` -> ``provision-vm``); ``run`` without one."""
    slug = re.sub(r"[^a-z0-9]+", "-", (definition.name or "").lower()).strip("-")
    slug = slug[:MAX_NAME_LENGTH].strip("-")
    return slug if slug and run_name_problem(slug) is None else DEFAULT_RUN_NAME


def secret_env_name(run_name: str, parameter: str) -> str:
    """The environment variable a SecureString input is read from: ``web-01`` + ``adminPassword`` ->
    ``WEB_01_ADMIN_PASSWORD``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", f"{run_name}_{parameter}")
    name = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").upper()
    return name if name and not name[0].isdigit() else f"RUN_{name}"


def run_manifest(definition: WorkflowDefinition, run_name: str) -> RunScaffold:
    """A ``kind: WorkflowRun`` manifest of ``definition`` named ``run_name``, every input written."""
    if why := run_name_problem(run_name):
        raise InvalidValueError(why)
    writer = _RunWriter(run_name)
    lines = _header(definition, run_name)
    lines += [
        f"apiVersion: {API_VERSION}",
        "kind: WorkflowRun",
        "metadata:",
        f"  name: {run_name}",
        "spec:",
        f"  workflow: {_scalar(definition.workflow_id)}" + _comment(_one_line(definition.name)),
    ]
    if not definition.inputs:
        lines.append("  parameters: {}  # the workflow declares no input")
    else:
        lines.append("  parameters:")
        for parameter in definition.inputs:
            lines += writer.parameter(parameter)
    return RunScaffold(
        text="\n".join(lines) + "\n",
        run_name=run_name,
        secret_envs=tuple(writer.secret_envs),
        placeholders=tuple(writer.placeholders),
        commented=tuple(writer.commented),
    )


def placeholder(type_name: str) -> Any:
    """A valid value of ``type_name`` that stands for "edit me"."""
    t = ParamType(type_name)
    if t.is_array:
        return []
    if t.is_sdk_object:
        return {"id": PLACEHOLDER}
    return {"number": 0, "boolean": False, "Date": PLACEHOLDER_DATE, "Properties": {}}.get(type_name, PLACEHOLDER)


def _header(definition: WorkflowDefinition, run_name: str) -> list[str]:
    title = definition.name or definition.workflow_id
    lines = [f"# {_one_line(title)}"]
    lines += [f"# {line}" if line else "#" for line in _lines(definition.description)]
    lines += [
        f"# Written by `reconciler init --workflow {_one_line(definition.workflow_id)}` from the workflow's presentation.",
        f'# Inputs marked "edit" hold a placeholder ({PLACEHOLDER}, 0, false, []): set them before `reconciler apply`.',
    ]
    if definition.outputs:
        outputs = ", ".join(f"{_one_line(p.name)} ({_one_line(p.type)})" for p in definition.outputs)
        lines.append(f"# Outputs, read elsewhere as ${{runs.{run_name}.outputs.NAME}}: {outputs}")
    return lines


class _RunWriter:
    def __init__(self, run_name: str) -> None:
        self.run_name = run_name
        self.secret_envs: list[str] = []
        self.placeholders: list[str] = []
        self.commented: list[str] = []

    def parameter(self, p: ParameterDefinition) -> list[str]:
        lines = [f"    # {line}" if line else "    #" for line in _lines(p.description)]
        key = _scalar(p.name)
        required = p.mandatory is True
        if not is_valid_type(p.type):
            self.commented.append(p.name)
            needs = "required" if required else "optional"
            note = f"{needs}; reconciler cannot send an input of type {p.type!r}"
            return [*lines, f"    # {key}: ...  # {_one_line(note)}"]
        if ParamType(p.type).is_sensitive:
            env = self._secret_env(p.name)
            value = f"{{type: {_scalar(p.type)}, valueFrom: {{env: {env}}}}}"
            if p.mandatory is False:
                return [*lines, f"    {key}: {value}  # optional: set {env} in the environment, or delete this line"]
            needs = "required" if required else "secret"
            return [*lines, f"    {key}: {value}  # {needs}: set {env} in the environment"]
        type_name = _one_line(p.type)
        default = p.default if p.default is not None and check_value(p.type, p.default) is None else None
        if default is not None:
            needs = "required" if required else "optional"
            return [*lines, f"    {key}: {_value(p.type, default)}  # {type_name}, {needs}; the declared default"]
        if p.mandatory is False:
            self.commented.append(p.name)
            text = f"{key}: {_value(p.type, placeholder(p.type))}"
            return [*lines, f"    # {text}  # {type_name}, optional, no default: uncomment to set it"]
        self.placeholders.append(p.name)
        why = "required" if required else "no default (the server does not say whether it is required)"
        return [*lines, f"    {key}: {_value(p.type, placeholder(p.type))}  # {type_name}, {why}: edit"]

    def _secret_env(self, parameter: str) -> str:
        base = secret_env_name(self.run_name, parameter)
        name, n = base, 1
        while name in self.secret_envs:
            n += 1
            name = f"{base}_{n}"
        self.secret_envs.append(name)
        return name


def _value(type_name: str, value: Any) -> str:
    """Shorthand when it reads back as ``type_name``; the explicit form otherwise."""
    text = _flow(value, template=True)
    if infer_type(value) == type_name:
        return text
    return f"{{type: {_scalar(type_name)}, value: {text}}}"


def _flow(value: Any, *, template: bool) -> str:
    """``value`` as one line of flow-style YAML; strings escaped for interpolation when ``template``."""
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v, template=template) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_scalar(str(k))}: {_flow(v, template=template)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, str) and template:
        return _scalar(value.replace("${", "$${"))
    return _scalar(value)


def _scalar(value: Any) -> str:
    """One scalar, plain when both YAML readings give it back unchanged, double-quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and _reads_back(text, text):
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return quoted if _reads_back(quoted, text) else json.dumps(text)


def _reads_back(text: str, expected: str) -> bool:
    try:
        return bool(parse_value(text) == expected and yaml.safe_load(text) == expected)
    except (InvalidValueError, yaml.YAMLError):
        return False


def _lines(text: str | None) -> list[str]:
    lines = [line.rstrip() for line in _printable(text or "").strip().splitlines()]
    return [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]


def _one_line(text: str | None) -> str:
    return " ".join(_printable(text or "").split())


def _printable(text: str) -> str:
    """``text`` without the characters a YAML stream may not hold, even in a comment."""
    return _NON_PRINTABLE.sub("?", text)


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""
