"""``check``: a first contact with the endpoint that starts nothing.

It answers the questions a team has before its first plan against a real VCD, one item each, in the
order they depend on one another: can the TLS certificate be verified (subject, issuer, expiry), which
API versions does the server offer and which one is used, does the login work (user, org, how long the
token lasts), and can every workflow the manifests use be read (its presentation). An item that
fails stops the items that need it (no login without TLS); the others are still tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError, RemoteError
from reconciler.operations.definitions import read_definitions_with
from reconciler.operations.project import Inputs, Project
from reconciler.remote.versions import AUTO, TESTED_API_VERSIONS, choose

if TYPE_CHECKING:
    from reconciler.remote.client import WorkflowClient
    from reconciler.remote.settings import ApiSettings

CERTIFICATE_WARNING_DAYS = 30


@dataclass(frozen=True)
class Item:
    """One line of the report: what was checked, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str
    warning: bool = False  # passed, but worth a look (verification off, plain HTTP, expiry near)


@dataclass
class Report:
    endpoint: str
    items: list[Item] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


def check(project: Project, inputs: Inputs) -> Report:
    """Contact the stack's endpoint and report every item; raises only for a stack that cannot be
    read at all (the manifests or the endpoint settings)."""
    from reconciler.operations.endpoint import api_settings

    workflows = sorted({run.workflow for run in project.load(inputs).runs.values()})
    settings = api_settings(project)
    return asyncio.run(_check(settings, workflows, project.stack.spec.parallelism))


async def _check(settings: ApiSettings, workflows: Sequence[str], parallelism: int) -> Report:
    from reconciler.remote.client import WorkflowClient

    report = Report(settings.url)
    try:
        async with WorkflowClient(settings, max_connections=parallelism + 2) as client:
            if await _tls_and_versions(client, settings, report) and await _login(client, report):
                await _workflows(client, workflows, parallelism, report)
    except ConfigError as exc:  # e.g. a caFile that cannot be read
        report.items.append(Item("tls", False, str(exc)))
    return report


async def _tls_and_versions(client: WorkflowClient, settings: ApiSettings, report: Report) -> bool:
    try:
        offered, certificate = await client.versions()
    except RemoteError as exc:
        report.items.append(Item("connect", False, str(exc)))
        return False
    if not settings.url.startswith("https://"):
        report.items.append(Item("tls", True, "plain HTTP: nothing is encrypted (use https:// for a real VCD)", True))
    elif not settings.verify_tls:
        report.items.append(Item("tls", True, "verification is off (verifyTls: false): certificate not checked", True))
    elif certificate is not None:
        days = (certificate.not_after - datetime.now(UTC)).days if certificate.not_after else None
        expiry = f"expires {certificate.not_after:%Y-%m-%d} (in {days} days)" if days is not None else "no expiry"
        detail = f"certificate {certificate.subject}, issued by {certificate.issuer}, {expiry}"
        report.items.append(Item("tls", True, detail, days is not None and days < CERTIFICATE_WARNING_DAYS))
    listed = ", ".join(str(o) for o in offered)
    configured = settings.api_version
    used = choose(offered) if configured == AUTO else configured
    if used is not None and any(o.version == used for o in offered):
        how = " (apiVersion: auto)" if configured == AUTO else ""
        report.items.append(Item("api version", True, f"server offers {listed}; using {used}{how}"))
        return True
    wanted = f"none of the tested versions ({', '.join(TESTED_API_VERSIONS)})" if used is None else used
    report.items.append(Item("api version", False, f"server offers {listed}; {wanted} is not among them"))
    return False


async def _login(client: WorkflowClient, report: Report) -> bool:
    try:
        login = await client.session()
    except RemoteError as exc:
        report.items.append(Item("login", False, str(exc)))
        return False
    lifetime = "token lifetime not stated by the server"
    if login.expires_at is not None:
        minutes = int((login.expires_at - datetime.now(UTC)).total_seconds() // 60)
        lifetime = f"token valid for {minutes} min (until {login.expires_at:%Y-%m-%d %H:%M} UTC)"
    version = f"API version {login.api_version}"
    report.items.append(
        Item("login", True, f"logged in as {login.identity or '(identity not stated)'}; {version}; {lifetime}")
    )
    return True


async def _workflows(client: WorkflowClient, workflows: Sequence[str], parallelism: int, report: Report) -> None:
    if not workflows:
        report.items.append(Item("workflows", True, "the manifests use no workflow"))
        return
    definitions = await read_definitions_with(client, workflows, parallelism)
    for workflow_id in workflows:
        name = f"workflow {workflow_id}"
        if workflow_id in definitions.known:
            known = definitions.known[workflow_id]
            detail = f"{known.name or '(unnamed)'}: {len(known.inputs)} inputs, {len(known.outputs)} outputs"
            report.items.append(Item(name, True, detail))
        elif workflow_id in definitions.unavailable:
            refused = definitions.unavailable[workflow_id]
            detail = f"not available to you ({refused.status}: {refused.message})"
            report.items.append(Item(name, False, detail))
        else:
            report.items.append(Item(name, False, definitions.unread.get(workflow_id, "not read")))
