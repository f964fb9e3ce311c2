"""A project on disk: the stack file, its manifests, its variables and its state backend.

This is the one place that reads the user's files; everything it reads goes into the pure loaders
(`reconciler.desired.loading`) as text, so that errors carry the file, line and column.

Variables come, lowest precedence first, from the stack file's defaults, the environment
(``RECONCILER_VAR_<name>``, declared names only), the ``*.auto.vars.yaml`` files beside the stack
file (lexical order; never read as manifests), the ``--var-file`` files in order, then ``--var``.
The environment and the auto var files are read at each load (``apply PLANFILE`` too: the saved
plan's check then refuses it if they changed what it would do); they are not copied into a saved
plan, which holds no secret.
"""

from __future__ import annotations

import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.backends.base import StateBackend
from reconciler.backends.selecting import backend_from_config
from reconciler.desired.loading import load_stack, parse_stack
from reconciler.desired.runs import DesiredStack
from reconciler.desired.variables import environment_values
from reconciler.errors import ConfigError, ManifestError, Problem, UserError
from reconciler.manifest.models import StackConfig
from reconciler.state.models import State
from reconciler.textfiles import read_text

STACK_FILE = "reconciler.yaml"
MANIFEST_SUFFIXES = (".yaml", ".yml")
AUTO_VAR_SUFFIXES = (".auto.vars.yaml", ".auto.vars.yml")


@dataclass
class Inputs:
    """What the command line adds to the manifests: variables and var files (as texts)."""

    variables: dict[str, str] = field(default_factory=dict)
    var_files: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Project:
    root: Path
    stack: StackConfig
    stack_text: str
    environ: Mapping[str, str]
    _backend: StateBackend | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.stack.metadata.name)

    def manifest_files(self) -> list[tuple[str, str]]:
        """(display path, text) of every manifest file, sorted by path."""
        files: list[tuple[str, str]] = []
        for entry in self.stack.spec.manifests:
            files += _collect(self.root, entry)
        return sorted(set(files))

    def auto_var_files(self) -> list[tuple[str, str]]:
        """(name, text) of the ``*.auto.vars.yaml`` files beside the stack file, in lexical order."""
        found = sorted(p for p in self.root.iterdir() if p.name.endswith(AUTO_VAR_SUFFIXES) and p.is_file())
        return [(_display(self.root, p), _read_manifest(self.root, p)) for p in found]

    def load(self, inputs: Inputs, environ: Mapping[str, str] | None = None) -> DesiredStack:
        """The desired stack: the stack file, every manifest file, ``inputs`` and the environment."""
        try:
            return self._load(inputs, self.environ if environ is None else environ)
        except ManifestError as err:
            grouped = _missing_environment(err.problems, lambda: self._load(inputs, _Lenient(self.environ)))
            if grouped is None:
                raise
            raise ManifestError(grouped) from None

    def _load(self, inputs: Inputs, environ: Mapping[str, str]) -> DesiredStack:
        sources = [
            *environment_values(self.stack.spec.variables, self.environ),
            *self.auto_var_files(),
            *inputs.var_files,
        ]
        _, desired = load_stack(
            self.stack_text, STACK_FILE, self.manifest_files(), inputs.variables, sources, environ, self.read_file
        )
        return desired

    def check(self, inputs: Inputs) -> tuple[DesiredStack, list[str]]:
        """``validate``: load everything, but an unset environment variable (a secret that only the
        pipeline has) is a warning, not an error. Returns the stack and the unset variables."""
        environ = _Lenient(self.environ)
        return self.load(inputs, environ), sorted(environ.missing)

    def read_file(self, path: str) -> str:
        return read_text(self.root / path)

    def backend(self) -> StateBackend:
        """The state's backend, one per project: a command's state, lock and definitions cache go
        through the same one (on PostgreSQL, the same connections; under the lock, its session)."""
        if self._backend is None:
            config = self.stack.spec.backend.model_dump(by_alias=True, exclude_none=True)
            self._backend = backend_from_config(config, self.root, self.environ)
        return self._backend

    def read_state(self) -> tuple[State, bool]:
        """The recorded state and whether it exists; a fresh empty one (new lineage) when it does not."""
        state = self.backend().read()
        return (state, True) if state is not None else (new_state(stack=self.stack.metadata.name), False)


_UNSET = re.compile(r"parameter '(?P<parameter>[^']*)': environment variable '(?P<variable>[^']*)' is not set")
_LISTED = 6  # users of a missing variable named in its message; the others are counted


def _missing_environment(problems: Sequence[Problem], lenient: Callable[[], DesiredStack]) -> list[Problem] | None:
    """``problems`` with the "environment variable is not set" ones made one per variable, naming the
    runs and parameters that need it (read from a load where unset variables are placeholders;
    their locations when that load fails too). None when there is no such problem."""
    unset: dict[str, list[tuple[Problem, str]]] = {}
    others: list[Problem] = []
    for problem in problems:
        found = _UNSET.fullmatch(problem.message)
        if found is None:
            others.append(problem)
        else:
            unset.setdefault(found["variable"], []).append((problem, found["parameter"]))
    if not unset:
        return None
    users = _users(lenient)
    for variable, uses in unset.items():
        named = users.get(variable) or [f"parameter {parameter} at {p.location}" for p, parameter in uses]
        listed = ", ".join(named[:_LISTED]) + (f" and {len(named) - _LISTED} more" if len(named) > _LISTED else "")
        others.append(
            Problem(uses[0][0].location, f"environment variable {variable!r} is not set (needed by {listed})")
        )
    return others


def _users(lenient: Callable[[], DesiredStack]) -> dict[str, list[str]]:
    """Environment variable -> the ``run.parameter``s that read it (empty if the stack does not load)."""
    try:
        desired = lenient()
    except UserError:
        return {}
    users: dict[str, list[str]] = {}
    for run in desired.runs.values():
        for name, value in run.inputs.items():
            if value.source is not None and value.source.startswith("env:"):
                users.setdefault(value.source.removeprefix("env:"), []).append(f"{run.name}.{name}")
    return {variable: sorted(found) for variable, found in users.items()}


class _Lenient(Mapping[str, str]):
    """An environment where unset variables read as a placeholder, and are remembered."""

    def __init__(self, real: Mapping[str, str]) -> None:
        self.real = real
        self.missing: set[str] = set()

    def __getitem__(self, key: str) -> str:
        if key not in self.real:
            self.missing.add(key)
            return "(unset)"
        return self.real[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.real)

    def __len__(self) -> int:
        return len(self.real)


def open_project(chdir: str | None, environ: Mapping[str, str] | None = None) -> Project:
    root = Path(chdir or ".").resolve()
    path = root / STACK_FILE
    try:
        text = read_text(path)
    except FileNotFoundError as err:
        raise ConfigError(f"no {STACK_FILE} in {root} (use -C DIR to point at the stack's folder)") from err
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err
    stack = parse_stack(text, STACK_FILE)
    return Project(
        root=root, stack=stack, stack_text=text, environ=dict(environ if environ is not None else os.environ)
    )


def read_inputs(pairs: Sequence[str], var_files: Sequence[str]) -> Inputs:
    inputs = Inputs()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--var expects NAME=VALUE, got {pair!r}")
        inputs.variables[name] = value
    for path in var_files:
        try:
            inputs.var_files.append((path, read_text(path)))
        except OSError as err:
            raise ConfigError(f"cannot read --var-file {path}: {err.strerror}") from err
    return inputs


def read_text_file(path: str) -> str:
    """A file named on the command line (a saved plan, a state to push): its text, or `UserError`."""
    try:
        return read_text(path)
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror}") from err


def new_state(lineage: str | None = None, salt: str | None = None, stack: str | None = None) -> State:
    return State(lineage=lineage or str(uuid.uuid4()), salt=salt or secrets.token_hex(16), serial=0, stack=stack)


def _collect(root: Path, entry: str) -> list[tuple[str, str]]:
    path = root / entry
    if path.is_file():
        found = [path]
    elif path.is_dir():
        found = [p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()]
    else:
        raise ConfigError(f"{STACK_FILE}: manifests entry {entry!r} does not exist under {root}")
    return [(_display(root, p), _read_manifest(root, p)) for p in found if not _auto_var_file(root, p)]


def _auto_var_file(root: Path, path: Path) -> bool:
    """Whether ``path`` is an auto var file (read as variables, not as a manifest); one that is not
    beside the stack file would be silently ignored: an error instead."""
    if not path.name.endswith(AUTO_VAR_SUFFIXES):
        return False
    if path.parent != root:
        raise ConfigError(
            f"{_display(root, path)}: *.auto.vars.yaml files are read only beside {STACK_FILE}; move it there"
        )
    return True


def _read_manifest(root: Path, path: Path) -> str:
    try:
        return read_text(path)
    except OSError as err:
        raise ConfigError(f"cannot read {_display(root, path)}: {err.strerror or err}") from err


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
