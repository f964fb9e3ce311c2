"""``reconciler check``: first contact with the endpoint (TLS, API versions, login, workflow access)."""

from __future__ import annotations

import sys

import click

from reconciler.cli.common import (
    Context,
    common_options,
    handle_errors,
    inputs_from,
    json_option,
    json_text,
    pass_context,
    var_options,
)


@click.command()
@common_options
@var_options
@json_option
@pass_context
@handle_errors
def check(ctx: Context, variables: tuple[str, ...], var_files: tuple[str, ...], as_json: bool) -> None:
    """Check the first contact with the endpoint; starts nothing.

    One line per item, each PASS, WARN (passed, worth a look) or FAIL: TLS (the certificate's
    subject, issuer and expiry, verified with the system store or spec.endpoint.caFile), the API
    versions the server offers and the one used (apiVersion: auto picks one), the login (user, org, how long the token lasts), and read
    access to every workflow the manifests use (its presentation). Exit 1 when any item fails.
    """
    from reconciler.operations.check import check as check_endpoint  # the HTTP client: only when run
    from reconciler.ui.console import escape  # rich: not loaded by `--help`, which imports this module

    report = check_endpoint(ctx.project(), inputs_from(variables, var_files))
    if as_json:
        items = [{"check": i.name, "ok": i.ok, "warning": i.warning, "detail": i.detail} for i in report.items]
        ctx.ui.raw(json_text({"endpoint": report.endpoint, "ok": report.ok, "checks": items}))
    else:
        ctx.ui.line(f"Checking {escape(report.endpoint)}")
        for item in report.items:
            mark = (
                "[green]PASS[/]" if item.ok and not item.warning else "[yellow]WARN[/]" if item.ok else "[red]FAIL[/]"
            )
            ctx.ui.line(f"  {mark}  {escape(item.name)}: {escape(item.detail)}")
        failed = sum(not i.ok for i in report.items)
        ctx.ui.line("All checks passed." if report.ok else f"{failed} check(s) failed.")
    if not report.ok:
        sys.exit(1)
