"""The `reconciler` command: a click group whose commands stay thin (parse, call one operation, show).

Commands are imported when used, not at start-up: `plan --no-refresh` must not pay for the HTTP
client, the apply engine or the emulator's web server.

The garbage collector's policy is set here and nowhere else: off for the command, frozen at exit,
back on for long-running work (`enable_collector`).
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.common import common_options

# name -> (module, attribute), in the order users meet them (validate, plan, apply, ...)
COMMANDS = {
    "init": ("reconciler.cli.init_command", "init"),
    "check": ("reconciler.cli.check_command", "check"),
    "validate": ("reconciler.cli.planning_commands", "validate"),
    "plan": ("reconciler.cli.planning_commands", "plan"),
    "apply": ("reconciler.cli.apply_commands", "apply"),
    "refresh": ("reconciler.cli.apply_commands", "refresh"),
    "show": ("reconciler.cli.planning_commands", "show"),
    "output": ("reconciler.cli.planning_commands", "output"),
    "import": ("reconciler.cli.apply_commands", "import_"),
    "state": ("reconciler.cli.state_commands", "state"),
    "force-unlock": ("reconciler.cli.state_commands", "force_unlock"),
    "workspace": ("reconciler.cli.workspace_command", "workspace"),
    "graph": ("reconciler.cli.planning_commands", "graph"),
    "schema": ("reconciler.cli.planning_commands", "schema"),
    "emulator": ("reconciler.cli.emulator_command", "emulator"),
}


class _LazyGroup(click.Group):
    """Commands listed in the order above, each module imported only when its command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    # Every usage error (unknown option or command, missing argument, bad value) is raised while the
    # group parses its arguments (`make_context`) or while it parses and runs a command (`invoke`).

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    """A usage error keeps click's message but exits 1, not click's 2: with `--detailed-exitcode`, 2
    means "changes present", and a typo must never read as that (SPEC 3.2)."""
    try:
        yield
    except click.UsageError as err:
        err.exit_code = 1  # type: ignore[misc]  # click declares it per class: here it is this error's
        raise


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@common_options
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative VMware Cloud Director workflow runs.

    Manifests (kind: WorkflowRun) say which runs should exist and with which inputs; `plan` shows
    what would change against the recorded state; `apply` starts what is missing, waits, and records
    the outputs. Start with `reconciler validate`, then `reconciler plan`.

    Exit codes: 0 success; 1 error (usage errors included); 2 changes present (only with
    `plan --detailed-exitcode`).
    """


COLLECT_AFTER = 50_000  # net new tracked objects between collections of the youngest generation


def main() -> None:
    """The entry point. A command builds many long-lived objects (the manifests, the state and the
    plan of every run) and every cyclic collection would walk them all, so the collector is off and
    reference counting frees what is dropped. At exit everything is frozen, so that the interpreter's
    shutdown does not walk them once more (bench/README.md has the figures)."""
    gc.disable()
    try:
        cli(prog_name="reconciler")
    finally:
        gc.freeze()


def enable_collector() -> None:
    """For long-running work (apply's engine, the emulator): what is loaded so far is never scanned
    again, new garbage is collected. Reference counting frees nearly everything they drop, so a
    collection runs only once tracked objects grew by `COLLECT_AFTER` (700 by default: apply-2000
    spent 12 % of its CPU scanning live runs and requests hundreds of times to find nothing)."""
    gc.freeze()
    gc.set_threshold(COLLECT_AFTER, 10, 10)
    gc.enable()
