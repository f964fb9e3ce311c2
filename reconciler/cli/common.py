"""What every command shares: -C/--chdir, --no-color, the UI, durations, and turning errors into exit codes."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.errors import ConfigError, InvalidValueError, ReconcilerError, RemoteError
from reconciler.manifest.durations import duration_seconds

# Imported where used, not here: every command (and `--help`, and the emulator) loads this module,
# and these pull in pydantic models, rich and the state backends.
if TYPE_CHECKING:
    from reconciler.operations.project import Inputs, Project
    from reconciler.state.models import RunRecord
    from reconciler.ui.console import Ui

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    chdir: str | None = None
    no_color: bool = False
    workspace: str | None = None

    @property
    def ui(self) -> Ui:
        from reconciler.ui.console import Ui

        return Ui.create(no_color=self.no_color)

    def project(self) -> Project:
        from reconciler.backends.selecting import WORKSPACE_ENV
        from reconciler.operations.project import open_project

        if self.workspace is None:
            return open_project(self.chdir)
        project = open_project(self.chdir, {**os.environ, WORKSPACE_ENV: self.workspace})
        backend = project.stack.spec.backend
        if backend is None or backend.type != "postgres":
            raise ConfigError("--workspace needs the postgres backend (spec.backend.type: postgres)")
        return project


def _set_chdir(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Context).chdir = value


def _set_workspace(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Context).workspace = value


def _set_no_color(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Context).no_color = True


def common_options(func: F) -> F:
    """-C/--chdir and --no-color, accepted before or after the command name."""
    func = click.option(
        "-C",
        "--chdir",
        metavar="DIR",
        expose_value=False,
        callback=_set_chdir,
        is_eager=True,
        help="Use the stack in DIR (where reconciler.yaml is). Paths on the command line (--var-file, "
        "--out, PLANFILE) stay relative to where you run the command.",
    )(func)
    func = click.option(
        "--workspace",
        metavar="NAME",
        expose_value=False,
        callback=_set_workspace,
        is_eager=True,
        help="PostgreSQL backend: use workspace NAME instead of the stack's (also: RECONCILER_WORKSPACE).",
    )(func)
    func = click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        callback=_set_no_color,
        is_eager=True,
        help="No colours (also: NO_COLOR set in the environment).",
    )(func)
    return func


def var_options(func: F) -> F:
    func = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a stack variable; a list or map as YAML/JSON flow (zones=[a, b]) when the variable's type is "
        "list, map or unset. Wins over every other source.",
    )(func)
    func = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        metavar="FILE",
        help="YAML file of variable values (lists and maps allowed); later files win. Precedence, lowest "
        "first: defaults, RECONCILER_VAR_<name>, *.auto.vars.yaml beside reconciler.yaml (lexical order), "
        "--var-file files in order, --var.",
    )(func)
    return func


json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def record_document(record: RunRecord) -> dict[str, Any]:
    """One recorded run as JSON (the state holds no secret in clear)."""
    doc: dict[str, Any] = record.model_dump(mode="json", by_alias=True)
    return doc


def json_text(value: Any) -> str:
    """``value`` as indented JSON, as ``json.dumps(value, indent=2)`` writes it, by pydantic-core's
    encoder (the standard library's falls back to pure Python with ``indent``: 0.12 s of a 10,000-run
    plan; bench/README.md)."""
    from pydantic_core import to_json

    return to_json(value, indent=2, ensure_ascii=True).decode()


def inputs_from(variables: tuple[str, ...], var_files: tuple[str, ...]) -> Inputs:
    from reconciler.operations.project import read_inputs

    return read_inputs(variables, var_files)


def handle_errors(func: F) -> F:
    """User and remote errors: message on stderr, exit 1, no traceback. Anything else is a bug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _show_warnings()
        try:
            return func(*args, **kwargs)
        except RemoteError as err:
            _ui().error(str(err))
            sys.exit(1)
        except ReconcilerError as err:
            _ui().error(str(err))
            sys.exit(1)
        except KeyboardInterrupt:
            _ui().error("interrupted")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


class _LogToUi(logging.Handler):
    """The package's log warnings (``reconciler.*``) as the UI's ``Warning:`` lines on stderr, and its
    notices (logger ``reconciler.notice``, INFO: e.g. the API version ``auto`` chose) as plain lines."""

    def emit(self, record: logging.LogRecord) -> None:
        from reconciler.ui.console import escape

        if record.levelno >= logging.WARNING:
            _ui().warn(record.getMessage())
        else:
            _ui().err.print(escape(record.getMessage()))


def _show_warnings() -> None:
    logger = logging.getLogger("reconciler")
    if not any(isinstance(h, _LogToUi) for h in logger.handlers):
        logger.addHandler(_LogToUi(logging.INFO))
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        logging.getLogger("reconciler.notice").setLevel(logging.INFO)


def _ui() -> Ui:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx else None
    return (obj or Context()).ui


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A duration flag, in the manifests' grammar (`duration_seconds`: ``30s``, ``5m``, ``1h30m``, ``45``)."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(duration_seconds(str(value).strip()))
        except InvalidValueError as err:
            self.fail(str(err), param, ctx)


pass_context = click.make_pass_decorator(Context, ensure=True)
