"""The `reconciler` command: a click group whose commands stay thin (parse, call one operation, render)."""

from __future__ import annotations

import click

from reconciler import __version__
from reconciler.cli import apply_commands, emulator_command, planning_commands, state_commands
from reconciler.cli.common import common_options


class _InOrder(click.Group):
    """Commands listed in the order a user meets them (validate, plan, apply, ...), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_InOrder, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@common_options
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative VMware Cloud Director workflow runs.

    Manifests (kind: WorkflowRun) say which runs should exist and with which inputs; `plan` shows
    what would change against the recorded state; `apply` starts what is missing, waits, and records
    the outputs. Start with `reconciler validate`, then `reconciler plan`.
    """


for command in (
    planning_commands.validate,
    planning_commands.plan,
    apply_commands.apply,
    apply_commands.refresh,
    planning_commands.show,
    planning_commands.output,
    apply_commands.import_,
    state_commands.state,
    state_commands.force_unlock,
    planning_commands.graph,
    planning_commands.schema,
    emulator_command.emulator,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="reconciler")
