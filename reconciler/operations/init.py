"""``init``: write a stack file for an endpoint, or a manifest scaffolded from a workflow's presentation.

The texts are built by `reconciler.manifest.scaffold` (pure); this module checks them with the real
loaders before anything is written, refuses to replace an existing file without ``force``, and reads
the presentation through the same client and settings as every other command that talks to the server.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.definitions import Definitions, WorkflowDefinition
from reconciler.desired.loading import load_stack, parse_stack
from reconciler.errors import ConfigError, ManifestError, Problem, UserError
from reconciler.manifest.documents import read_runs
from reconciler.manifest.scaffold import RunScaffold, StackAnswers, run_manifest, run_name_for, stack_text
from reconciler.manifest.validating import run_name_problem
from reconciler.operations.definitions import endpoint_url, keep_definitions, read_definitions
from reconciler.operations.project import MANIFEST_SUFFIXES, STACK_FILE, Project, open_project

# The stack a scaffolded manifest is checked against on its own: no variables, no endpoint.
_BARE_STACK = "apiVersion: reconciler/v1\nkind: Stack\nmetadata: {name: init-check}\n"


@dataclass(frozen=True)
class StackWritten:
    path: Path
    project: Project  # the file as every command reads it
    manifests_created: Path | None  # the manifests folder, when init made it


@dataclass(frozen=True)
class RunWritten:
    path: Path
    definition: WorkflowDefinition
    scaffold: RunScaffold
    unread: str | None  # why the stack does not read ``path`` (None: it does)


def refuse_existing(path: Path, force: bool) -> None:
    """`UserError` when ``path`` exists and ``force`` is not given."""
    if not force and (path.exists() or path.is_symlink()):
        raise UserError(f"{path} already exists; not overwriting it (use --force to replace it)")


def stack_path(root: Path) -> Path:
    return root / STACK_FILE


def init_stack(root: Path, answers: StackAnswers, force: bool) -> StackWritten:
    """Write ``root/reconciler.yaml`` for ``answers`` (and the manifests folder when missing)."""
    path = stack_path(root)
    refuse_existing(path, force)
    text = stack_text(answers)
    parse_stack(text, STACK_FILE)  # the loader every command uses: nothing invalid is written
    root.mkdir(parents=True, exist_ok=True)
    _write(path, text, force)
    manifests = root / answers.manifests
    created = None
    if not manifests.exists() and not manifests.suffix:
        manifests.mkdir(parents=True)
        created = manifests
    return StackWritten(path, open_project(str(root)), created)


def init_run(
    root: Path, workflow_id: str, name: str | None, out: str | None, force: bool, environ: Mapping[str, str]
) -> RunWritten:
    """Read ``workflow_id``'s presentation from the stack's endpoint and write a manifest of it."""
    if not stack_path(root).exists():
        raise ConfigError(f"no {STACK_FILE} in {root}: write one first with `reconciler init` (or use -C DIR)")
    project = open_project(str(root), environ)
    if name is not None and (why := run_name_problem(name)):
        raise ConfigError(f"--name: {why}")
    if out is not None:
        refuse_existing(Path(out), force)
    elif name is not None:
        refuse_existing(_default_out(project, name), force)
    read = _presentation(project, workflow_id)
    definition = read.known[workflow_id]
    run_name = name or run_name_for(definition)
    path = Path(out) if out is not None else _default_out(project, run_name)
    refuse_existing(path, force)
    _refuse_duplicate(project, run_name, path)
    scaffold = run_manifest(definition, run_name)
    _check(scaffold, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, scaffold.text, force)
    # kept like apply keeps what it reads, so that `validate` checks the new manifest at once, offline
    keep_definitions(project, read)
    return RunWritten(path, definition, scaffold, _unread_reason(project, path))


def _presentation(project: Project, workflow_id: str) -> Definitions:
    """The definition of ``workflow_id`` read from the stack's endpoint, as plan reads them."""
    read = read_definitions(project, [workflow_id], 1)
    if workflow_id in read.known:
        return read
    refused = read.unavailable.get(workflow_id)
    if refused is not None:
        raise UserError(
            f"workflow {workflow_id!r} does not exist or you may not read it on {endpoint_url(project)} "
            f"({refused.status}): {refused.message}"
        )
    raise UserError(f"cannot read workflow {workflow_id!r}: {read.unread.get(workflow_id, 'no answer')}")


def _default_out(project: Project, run_name: str) -> Path:
    entry = project.stack.spec.manifests[0]
    folder = project.root / entry
    if folder.is_file() or (not folder.exists() and folder.suffix in MANIFEST_SUFFIXES):
        raise ConfigError(f"{STACK_FILE}: the first manifests entry {entry!r} is a file, not a folder: give --out PATH")
    return folder / f"{run_name}.yaml"


def _refuse_duplicate(project: Project, run_name: str, path: Path) -> None:
    """A run of that name declared in another manifest file would make the stack invalid."""
    problems: list[Problem] = []
    target = path.resolve()
    try:
        files = [(f, t) for f, t in project.manifest_files() if (project.root / f).resolve() != target]
    except ConfigError:
        return  # a manifests entry that does not exist yet: nothing declared there
    for found in read_runs(files, problems):
        if found.run.metadata.name == run_name:
            raise UserError(
                f"a run named {run_name!r} is already declared at {found.document.location(('metadata', 'name'))}; "
                "choose another with --name"
            )


def _check(scaffold: RunScaffold, display: str) -> None:
    """The manifest, loaded on its own by the real loader (secrets as placeholders): it must be valid."""
    environ = dict.fromkeys(scaffold.secret_envs, "(placeholder)")
    try:
        load_stack(_BARE_STACK, STACK_FILE, [(display, scaffold.text)], {}, [], environ, _no_file)
    except ManifestError as err:
        raise UserError(
            f"the manifest scaffolded for {display} does not validate (please report this):\n{err}"
        ) from err


def _no_file(path: str) -> str:
    raise FileNotFoundError(path)


def _unread_reason(project: Project, path: Path) -> str | None:
    """Why the stack's ``manifests`` entries do not cover ``path``; None when they do."""
    target = path.resolve()
    entries = project.stack.spec.manifests
    for entry in entries:
        where = (project.root / entry).resolve()
        if target == where or (target.suffix in MANIFEST_SUFFIXES and target.is_relative_to(where)):
            return None
    if target.suffix not in MANIFEST_SUFFIXES:
        return f"only *.yaml and *.yml files are read as manifests, not {path.name}"
    return f"it is outside the stack's manifests ({', '.join(entries)}): move it there or add it to spec.manifests"


def _write(path: Path, text: str, force: bool) -> None:
    """Create ``path`` (replace it, atomically, only with ``force``); `UserError` when it cannot."""
    try:
        if not force:
            with path.open("x", encoding="utf-8") as file:  # exclusive: never replaces a file
                file.write(text)
            return
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except FileExistsError as err:
        raise UserError(f"{path} already exists; not overwriting it (use --force to replace it)") from err
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from err
