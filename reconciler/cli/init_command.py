"""init: write a stack file for an endpoint (asked, or from flags), or a manifest of one workflow."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from reconciler.cli.common import Context, common_options, handle_errors, pass_context
from reconciler.errors import ConfigError
from reconciler.manifest.defaults import DEFAULT_ENDPOINT_API_VERSION

_STACK_ONLY = (
    "url",
    "api_version",
    "org",
    "auth",
    "username",
    "password_env",
    "token_env",
    "backend",
    "state_path",
    "dsn_env",
    "workspace",
    "manifests",
    "ca_file",
    "verify_tls",
)


class _EnvName(click.ParamType):  # type: ignore[type-arg]
    """The NAME of an environment variable (never its value)."""

    name = "NAME"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from reconciler.manifest.scaffold import env_name_problem

        text = str(value).strip()
        if why := env_name_problem(text, self.what):
            self.fail(why, param, ctx)
        return text


class _Url(click.ParamType):  # type: ignore[type-arg]
    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from reconciler.manifest.scaffold import url_problem

        text = str(value).strip()
        if why := url_problem(text):
            self.fail(why, param, ctx)
        return text


_PASSWORD_ENV = _EnvName("password")
_TOKEN_ENV = _EnvName("API token")
_DSN_ENV = _EnvName("PostgreSQL connection string")


@click.command()
@common_options
@click.option("--workflow", metavar="ID", help="Write a WorkflowRun manifest of this workflow (from its presentation).")
@click.option(
    "--name",
    metavar="NAME",
    help="The run's name (with --workflow; default: from the workflow's name), or the stack's.",
)
@click.option(
    "--out",
    metavar="PATH",
    help="With --workflow: where to write the manifest, relative to the current folder (default: the first manifests folder of the stack, NAME.yaml).",
)
@click.option("--force", is_flag=True, help="Replace a file that exists (never replaced otherwise).")
@click.option("--url", type=_Url(), help="The VCD endpoint, e.g. https://vcd.example.com.")
@click.option(
    "--api-version", metavar="VERSION", help=f"API version to speak (default {DEFAULT_ENDPOINT_API_VERSION})."
)
@click.option("--org", metavar="ORG", help="The tenant org; System for a provider login (default System).")
@click.option(
    "--auth", type=click.Choice(["session", "token"]), help="Log in with a username and password, or an API token."
)
@click.option("--username", metavar="USER", help="Session login: the user (without @org).")
@click.option("--password-env", type=_PASSWORD_ENV, help="Session login: NAME of the variable that holds the password.")
@click.option("--token-env", type=_TOKEN_ENV, help="API token login: NAME of the variable that holds the token.")
@click.option("--backend", type=click.Choice(["local", "postgres"]), help="Where the state lives (default local).")
@click.option("--state-path", metavar="PATH", help="Local backend: the state file (default reconciler.state.json).")
@click.option("--dsn-env", type=_DSN_ENV, help="PostgreSQL backend: NAME of the variable that holds the DSN.")
@click.option("--manifests", metavar="DIR", help="The folder of manifests (default manifests).")
@click.option("--ca-file", metavar="PATH", help="A PEM bundle of CAs to trust instead of the system store.")
@click.option("--verify-tls/--no-verify-tls", default=None, help="Verify the server's certificate (default: verify).")
@click.option("--no-input", is_flag=True, help="Ask nothing: what no flag gives takes its default (--url is needed).")
@pass_context
@handle_errors
def init(
    ctx: Context, /, workflow: str | None, name: str | None, out: str | None, force: bool, no_input: bool, **flags: Any
) -> None:
    """Write a reconciler.yaml for an endpoint, or (--workflow ID) a manifest of one workflow.

    Without --workflow: writes reconciler.yaml (in -C DIR, or here) and creates the manifests folder.
    What no flag gives is asked on the terminal (--no-input takes the defaults instead). Secrets are
    never asked for nor written: the file names the environment variable that holds the password
    (--password-env) or API token (--token-env), and the PostgreSQL DSN (--dsn-env). The file is
    checked with the same loader as every command before it is written.

    With --workflow ID: reads the workflow's presentation from the endpoint of reconciler.yaml
    (logging in as plan and apply do) and writes a WorkflowRun manifest with every input: typed
    (shorthand when it reads back as the declared type, {type: T, value: V} otherwise), each input's
    description as a comment, mandatory inputs marked "required" with their declared default or a
    placeholder to edit (CHANGE-ME, 0, false, []), optional ones with their default, SecureString
    inputs as valueFrom: {env: RUN_INPUT}, never a value. It validates as written. A workflow that
    does not exist or that you may not read exits 1 with the server's message.

    An existing file is never replaced without --force (exit 1).

    \b
    Examples:
      reconciler init --url https://vcd.example.com --org acme --username deployer --password-env VCD_PASSWORD
      reconciler init --workflow 6b2e1c0a-3c1d-4c51-9f0b-1f2e3d4c5b6a --name web-01
    """
    from reconciler.operations.init import init_run

    flags["workspace"] = ctx.workspace  # the common --workspace: here, what the stack file gets
    root = Path(ctx.chdir or ".")
    if workflow is None:
        _init_stack(ctx, root, name, out, force, no_input, flags)
        return
    given = [f"--{k.replace('_', '-')}" for k in _STACK_ONLY if flags.get(k) is not None] + (
        ["--no-input"] if no_input else []
    )
    if given:
        raise click.UsageError(f"{', '.join(given)}: only when writing a stack file (without --workflow)")
    written = init_run(root.resolve(), workflow, name, out, force, os.environ)
    shown = _shown(written.path)
    ui = ctx.ui
    definition, scaffold = written.definition, written.scaffold
    title = f" ({definition.name})" if definition.name else ""
    ui.line(
        f"[green]Wrote {shown}[/]: run {scaffold.run_name} of workflow {definition.workflow_id}{title}, "
        f"{len(definition.inputs)} input(s)."
    )
    if scaffold.placeholders:
        ui.line(f"Edit the placeholders of: {', '.join(scaffold.placeholders)}.")
    if scaffold.commented:
        ui.line(
            f"Commented out (optional without default, or a type reconciler cannot send): {', '.join(scaffold.commented)}."
        )
    if scaffold.secret_envs:
        ui.line(f"Set in the environment before plan and apply: {', '.join(scaffold.secret_envs)}.")
    if written.unread:
        ui.warn(f"the stack does not read {shown}: {written.unread}")


def _init_stack(
    ctx: Context, root: Path, name: str | None, out: str | None, force: bool, no_input: bool, flags: dict[str, Any]
) -> None:
    from reconciler.manifest.scaffold import StackAnswers
    from reconciler.operations.init import init_stack, refuse_existing, stack_path

    if out is not None:
        raise click.UsageError("--out: only with --workflow (the stack file is always DIR/reconciler.yaml; use -C DIR)")
    refuse_existing(stack_path(root), force)  # before asking anything
    ask = _Asker(no_input, {**flags, "name": name})
    url = ask("Endpoint URL", "url", None, _Url())
    api_version = ask("API version", "api_version", DEFAULT_ENDPOINT_API_VERSION)
    org = ask("Organization (System for a provider login)", "org", "System")
    auth = ask("Log in with", "auth", "token" if flags["token_env"] else "session", click.Choice(["session", "token"]))
    other = ["--token-env"] if auth == "session" else ["--username", "--password-env"]
    if stray := [f for f in other if flags[f[2:].replace("-", "_")] is not None]:
        raise click.UsageError(f"{', '.join(stray)}: not with a {auth} login (--auth {auth})")
    username = None
    if auth == "session":
        username = ask("Username (without @org)", "username", None)
        secret_env = ask("Environment variable that holds the password", "password_env", "VCD_PASSWORD", _PASSWORD_ENV)
    else:
        secret_env = ask("Environment variable that holds the API token", "token_env", "VCD_API_TOKEN", _TOKEN_ENV)
    backend = ask("State backend", "backend", "local", click.Choice(["local", "postgres"]))
    answers: dict[str, Any] = {}
    if backend == "local":
        answers["state_path"] = ask("State file", "state_path", "reconciler.state.json")
    else:
        answers["dsn_env"] = ask(
            "Environment variable that holds the PostgreSQL DSN", "dsn_env", "RECONCILER_PG_DSN", _DSN_ENV
        )
        answers["workspace"] = ask("Workspace", "workspace", "default")
    stack_name = ask("Stack name", "name", _slug(root.resolve().name))
    written = init_stack(
        root,
        StackAnswers(
            name=stack_name,
            url=url,
            api_version=api_version,
            org=org,
            auth=auth,
            secret_env=secret_env,
            username=username,
            verify_tls=flags["verify_tls"] is not False,
            ca_file=flags["ca_file"],
            backend=backend,
            manifests=flags["manifests"] or "manifests",
            **answers,
        ),
        force,
    )
    ui = ctx.ui
    endpoint = written.project.stack.spec.endpoint
    assert endpoint is not None
    login = f"session login as {username}@{org}" if auth == "session" else f"API token login to org {org}"
    ui.line(f"[green]Wrote {written.path}[/]: stack {stack_name}, endpoint {endpoint.url} ({login}).")
    if written.manifests_created:
        ui.line(f"Created {written.manifests_created}/ for the manifests.")
    missing = [v for v in (secret_env, answers.get("dsn_env")) if v and v not in os.environ]
    if missing:
        ui.line(f"Set in the environment (never written to a file): {', '.join(missing)}.")
    ui.line("Next: `reconciler init --workflow ID` writes a manifest of a workflow; then `reconciler plan`.")


class _Asker:
    """A flag's value when given; else the default (--no-input) or the answer to a prompt."""

    def __init__(self, no_input: bool, flags: dict[str, Any]) -> None:
        self.no_input = no_input
        self.flags = flags

    def __call__(self, text: str, key: str, default: str | None, kind: click.ParamType[Any, Any] | None = None) -> Any:
        given = self.flags.get(key)
        if given is not None:
            return given
        flag = "--" + key.replace("_", "-")
        if self.no_input:
            if default is None:
                raise ConfigError(f"{text}: give {flag} (--no-input asks nothing)")
            return default
        try:
            return click.prompt(text, default=default, type=kind, err=True)
        except click.Abort:  # the input ended (no terminal, nothing more piped in)
            raise ConfigError(
                f"{text}: no answer (the input ended); give {flag}, or --no-input for the defaults"
            ) from None


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "stack"
