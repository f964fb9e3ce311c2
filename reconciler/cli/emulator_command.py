"""``reconciler emulator``: serve the local VCD-compatible emulator (SPEC 6)."""

from __future__ import annotations

from typing import Literal

import click

from reconciler.cli.app import enable_collector
from reconciler.cli.common import Context, Duration, common_options, handle_errors, pass_context

# The emulator's modules (starlette, uvicorn, the catalog's models) are imported when it is started,
# not with this module: `reconciler --help` loads every command module to list them.


@click.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless told).")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--catalog", "catalog_path", metavar="FILE", help="Catalog of workflows and users (default: the demo).")
@click.option("--latency", default=0.0, show_default=True, type=click.FloatRange(0), help="Seconds added per answer.")
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of workflow calls answered with an injected fault.",
)
@click.option(
    "--fault-kinds",
    default=None,
    show_default="all",
    help="Comma-separated kinds: 500,502,503,504,429,drop (no answer), lost (processed, answer lost).",
)
@click.option("--seed", type=int, help="Seed of the fault generator, for repeatable runs.")
@click.option(
    "--value-format",
    type=click.Choice(["openapi", "vro"]),
    default="openapi",
    show_default=True,
    help="Answer parameter values in this format, whatever a start sent: openapi (the VCD 37.2 definitions) "
    "or vro (Orchestrator's wire form, outside the definitions).",
)
@click.option(
    "--session-idle-timeout",
    type=Duration(),
    default="30m",
    show_default=True,
    help="A session unused this long is logged out (e.g. 30m, 45s): test clients against expiry.",
)
@click.option(
    "--max-body-size",
    "max_body_bytes",
    type=click.IntRange(1),
    default=1_048_576,
    show_default=True,
    metavar="BYTES",
    help="Larger request bodies are refused with 413.",
)
@click.option(
    "--nulls",
    is_flag=True,
    help="Send unset execution fields (endDate, contentException...) as null instead of leaving them out.",
)
@click.option("--certfile", metavar="PEM", help="Serve HTTPS with this certificate.")
@click.option("--keyfile", metavar="PEM", help="Private key of --certfile.")
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@pass_context
@handle_errors
def emulator(
    ctx: Context,
    host: str,
    port: int,
    catalog_path: str | None,
    latency: float,
    fault_rate: float,
    fault_kinds: str | None,
    seed: int | None,
    value_format: Literal["openapi", "vro"],
    session_idle_timeout: float,
    max_body_bytes: int,
    nulls: bool,
    certfile: str | None,
    keyfile: str | None,
    log_level: str,
) -> None:
    """Serve a local VCD-compatible workflows API (no VCD needed).

    With no --catalog it serves the demo catalog: user `admin` in org `System` (password `admin`),
    user `deployer` in org `acme` (password `deployer`) and the API token `demo-token`. A read-only
    list of every start received is at /_emulator/starts.
    """
    from reconciler.emulator.faults import ALL_FAULT_KINDS
    from reconciler.emulator.options import EmulatorOptions
    from reconciler.emulator.serving import serve

    enable_collector()  # a server runs for long: collect its garbage (the CLI starts with it off)
    kinds = ALL_FAULT_KINDS if fault_kinds is None else tuple(k.strip() for k in fault_kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in ALL_FAULT_KINDS]
    if unknown:
        raise click.BadParameter(f"unknown fault kind(s): {', '.join(unknown)}", param_hint="--fault-kinds")
    try:
        options = EmulatorOptions(
            latency=latency,
            fault_rate=fault_rate,
            fault_kinds=kinds,
            seed=seed,
            output_format=value_format,
            session_idle_timeout=session_idle_timeout,
            max_body_bytes=max_body_bytes,
            nulls=nulls,
        )
        serve(host, port, catalog_path, options, log_level=log_level, certfile=certfile, keyfile=keyfile)
    except KeyboardInterrupt:
        pass
