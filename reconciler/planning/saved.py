"""Saved plans (``plan --out FILE``) and why one may no longer be applied.

A saved plan records what it was made from: the state's lineage and serial, the manifests' digest,
the variables and options. It holds no secret: secret inputs are re-read at apply time and checked
through the run keys. ``apply FILE`` re-plans from the same inputs and refuses unless the result
starts and deletes exactly what the saved plan said (``fingerprint``); an await that has meanwhile
finished is not a difference, nor are its consequences downstream (``check_same``). Applying it
twice is refused because the first apply moved the serial.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import PlanStaleError
from reconciler.planning.changes import Action, Change, Move, ParamChange, Plan, PlannedInput
from reconciler.planning.rendering import plan_document

FORMAT = "reconciler-plan"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    lineage: str
    serial: int
    salt: str
    state_exists: bool
    manifests_digest: str
    fingerprint: str
    variables: Mapping[str, str]
    var_files: Sequence[tuple[str, str]]
    targets: tuple[str, ...]
    replace: tuple[str, ...]
    document: Mapping[str, Any]  # the plan as `plan --json` shows it, for `show PLANFILE` (`shown_plan`)
    path: str = "the saved plan"  # where it was read from, for messages


KNOWN_AFTER_APPLY = "(known after apply)"


def fingerprint(plan: Plan) -> str:
    """What the plan will do to the server and the state: starts (with keys) and deletes."""
    return _digest(_acts(plan))


def _acts(plan: Plan) -> list[list[str]]:
    """The starts and deletes, by run name: the fingerprint does not depend on the order the plan lists
    its changes in (dependency order in a `Plan`, review order in its document)."""
    return sorted(
        [c.run, c.action.value, c.key or KNOWN_AFTER_APPLY, c.workflow]
        for c in plan.changes
        if c.action.starts or c.action.value == "delete"
    )


def _digest(acts: list[list[str]]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(acts, sort_keys=True).encode()).hexdigest()


def save(plan: Plan, variables: Mapping[str, str], var_files: Sequence[tuple[str, str]], created_at: str) -> str:
    body = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "createdAt": created_at,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "salt": plan.salt,
        "stateExists": plan.state_exists,
        "manifestsDigest": plan.manifests_digest,
        "fingerprint": fingerprint(plan),
        "variables": dict(variables),
        "varFiles": [list(v) for v in var_files],
        "targets": list(plan.targets),
        "replace": list(plan.replace),
        "plan": plan_document(plan),
    }
    # keys as written: the plan's inputs keep the manifests' order, for `show PLANFILE` (`shown_plan`)
    return json.dumps(body, indent=2) + "\n"


def load(text: str, path: str) -> SavedPlan:
    try:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise PlanStaleError(f"{path} is not a reconciler plan file")
        if body.get("formatVersion") != FORMAT_VERSION:
            raise PlanStaleError(f"{path}: plan format {body.get('formatVersion')} is not supported")
        return SavedPlan(
            lineage=body["lineage"],
            serial=int(body["serial"]),
            salt=body["salt"],
            state_exists=bool(body["stateExists"]),
            manifests_digest=body["manifestsDigest"],
            fingerprint=body["fingerprint"],
            variables=dict(body["variables"]),
            var_files=[(str(p), str(t)) for p, t in body["varFiles"]],
            targets=tuple(body["targets"]),
            replace=tuple(body["replace"]),
            document=body["plan"],
            path=path,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanStaleError(f"{path} is not a readable reconciler plan file ({err})") from err


def shown_plan(saved: SavedPlan) -> Plan:
    """The saved plan as `plan` showed it, for `show PLANFILE` to print with the same view code.

    Read back from its document, which holds what a plan shows and no more: the values as displayed
    (secrets and unknown values as their marks, which the views print bare), no input types (the
    views show none). Not for applying: ``apply PLANFILE`` plans again and compares (`check_same`)."""
    document = saved.document
    try:
        entries = list(document["changes"])
        moves = tuple(Move(e["moved_from"], e["run"], e["workflow"]) for e in entries if e["action"] == "moved")
        changes = tuple(_shown_change(e) for e in entries if e["action"] != "moved")
        warnings = tuple(str(w) for w in document.get("warnings", ()))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanStaleError(f"{saved.path} is not a readable reconciler plan file ({err!r})") from err
    return Plan(
        changes=changes,
        lineage=saved.lineage,
        serial=saved.serial,
        salt=saved.salt,
        state_exists=saved.state_exists,
        manifests_digest=saved.manifests_digest,
        targets=saved.targets,
        replace=saved.replace,
        warnings=warnings,
        moves=moves,
    )


def _shown_change(entry: Mapping[str, Any]) -> Change:
    execution = entry.get("execution") or {}
    return Change(
        run=str(entry["run"]),
        action=Action(entry["action"]),
        reason=str(entry["reason"]),
        workflow=str(entry["workflow"]),
        inputs={str(n): PlannedInput("", v) for n, v in dict(entry.get("inputs") or {}).items()},
        key=entry.get("key"),
        depends_on=tuple(entry.get("depends_on") or ()),
        diff=tuple(_shown_param(p) for p in entry.get("diff") or ()),
        execution_id=execution.get("id"),
        execution_state=execution.get("state"),
        ignored=tuple(_shown_param(p) for p in entry.get("ignored") or ()),
    )


_CHANGE_KINDS = {kind: kind for kind in ("added", "removed", "changed")}


def _shown_param(entry: Mapping[str, Any]) -> ParamChange:
    kind = _CHANGE_KINDS[entry["change"]]  # another is a KeyError: the file is not readable
    return ParamChange(
        str(entry["parameter"]), kind, entry.get("before"), entry.get("after"), tuple(entry.get("paths") or ())
    )


def check_basis(saved: SavedPlan, lineage: str | None, serial: int | None, manifests_digest: str) -> None:
    """Refuse a plan made from another state, an older serial, or other manifests."""
    again = "Run `reconciler plan` again."
    if saved.state_exists and lineage is None:
        raise PlanStaleError(f"{saved.path} does not match the state: the state it was made from no longer exists")
    if saved.state_exists and lineage != saved.lineage:
        raise PlanStaleError(
            f"{saved.path} does not match the state: it was made for lineage {saved.lineage}, the state has {lineage}"
        )
    if lineage is not None and not saved.state_exists:
        raise PlanStaleError(
            f"{saved.path} is stale: it was made when no state existed, and one has been written since "
            f"(serial {serial}), by another operation or by applying this plan already. {again}"
        )
    if lineage is not None and serial != saved.serial:
        raise PlanStaleError(
            f"{saved.path} is stale: the state changed after the plan was created (serial {saved.serial} -> "
            f"{serial}), by another operation or by applying this plan already. {again}"
        )
    if manifests_digest != saved.manifests_digest:
        raise PlanStaleError(f"{saved.path} is stale: the manifests changed after the plan was created. {again}")


def check_same(saved: SavedPlan, replanned: Plan) -> None:
    """Refuse unless ``replanned`` starts and deletes what ``saved`` said it would.

    A start the saved plan showed as ``(known after apply)`` (downstream of an await that has finished
    since) may now have its key, and a conditional re-run may have become a no-op: apply would have
    decided both once the upstream's outputs were known, which is what the user approved.
    """
    if fingerprint(replanned) == saved.fingerprint:
        return
    acts = _saved_acts(saved)
    if acts is None or not _compatible(acts, _acts(replanned)):
        raise PlanStaleError(
            f"{saved.path} is stale: planning again now gives different actions (an input, a secret or the server "
            "changed). Run `reconciler plan` again."
        )


def _saved_acts(saved: SavedPlan) -> list[list[str]] | None:
    """The saved plan's starts and deletes, read back from its document; None if they disagree with it."""
    try:
        acts = [
            [c["run"], c["action"], c.get("key") or KNOWN_AFTER_APPLY, c["workflow"]]
            for c in saved.document["changes"]
            if c["action"] in ("start", "rerun", "retry", "delete")
        ]
    except (KeyError, TypeError, AttributeError):
        return None
    # as listed: a plan saved before the fingerprint was taken by run name (in dependency order)
    return next((a for a in (sorted(acts), acts) if _digest(a) == saved.fingerprint), None)


def _compatible(saved: list[list[str]], now: list[list[str]]) -> bool:
    before = {a[0]: a for a in saved}
    after = {a[0]: a for a in now}
    for run, act in after.items():
        was = before.get(run)
        if was is None:
            return False
        if was != act and not (was[2] == KNOWN_AFTER_APPLY and (was[1], was[3]) == (act[1], act[3])):
            return False
    return all(run in after or (was[1], was[2]) == ("rerun", KNOWN_AFTER_APPLY) for run, was in before.items())
