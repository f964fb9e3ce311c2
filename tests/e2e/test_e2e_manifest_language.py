"""What users reach for in manifests, through the CLI against the emulator: forEach over objects, key-built
references, variables from the environment / auto var files / flow ``--var``, ``--target`` on a forEach
base name, and an unset environment variable reported once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.e2e import ECHO, READS, SECRET, Emulator, Stack, run_doc

VARIABLES = {"vms": {"type": "list"}, "owner": {"default": "from-default"}, "zones": {"type": "list", "default": []}}


def _language_stack(stack: Stack) -> None:
    """web-<name> per object of ``vms`` (from an auto var file), reader-<key> reading web-<key>'s output
    through a key-built reference, zone-<z> per item of ``zones``."""
    stack.write_stack(variables=VARIABLES)
    auto = {"vms": [{"name": "a", "tier": {"label": "gold"}}, {"name": "b", "tier": {"label": "silver"}}]}
    (stack.root / "vms.auto.vars.yaml").write_text(yaml.safe_dump(auto), encoding="utf-8")
    stack.write_runs(
        [
            run_doc(
                "web",
                ECHO,
                {"name": "web-${each.key}", "note": "${each.value.tier.label}-${var.owner}"},
                forEach="${var.vms}",
            ),
            run_doc(
                "reader",
                READS,
                {"upstream": "${runs.web-${each.key}.outputs.shout}"},
                forEach={"a": {"n": 1}, "b": {"n": 2}},
            ),
            run_doc("zone", ECHO, {"name": "zone-${each.value}"}, forEach="${var.zones}"),
        ]
    )


def _changes(stack: Stack, *args: str) -> dict[str, str]:
    planned = stack.cli(["plan", "--json", *args])
    assert planned.code == 0, planned
    return {c["run"]: c["action"] for c in planned.json()["changes"]}


def test_for_each_over_objects_with_a_key_built_reference_and_variable_sources(
    stack: Stack, emulator: Emulator
) -> None:
    _language_stack(stack)
    applied = stack.cli(["apply", "--auto-approve", "--var", 'zones=["z1", "z2"]'])
    assert applied.code == 0, applied
    starts = {s["inputs"].get("name") or s["inputs"]["upstream"]: s["inputs"] for s in emulator.starts()}
    assert starts["web-a"]["note"] == "gold-from-default"
    assert starts["web-b"]["note"] == "silver-from-default"
    assert set(starts) == {"web-a", "web-b", "WEB-A", "WEB-B", "zone-z1", "zone-z2"}
    outputs = stack.cli(["output", "--json"]).json()
    assert outputs["reader-a"]["seen"] == "seen-WEB-A" and outputs["reader-b"]["seen"] == "seen-WEB-B"
    graph = stack.cli(["graph", "--var", "zones=[z1, z2]"])
    assert '"reader-a" -> "web-a"' in graph.out or '"web-a" -> "reader-a"' in graph.out, graph

    # the environment overrides a default, an auto var file the environment, --var everything
    stack.env["RECONCILER_VAR_owner"] = "from-env"
    assert _changes(stack, "--var", "zones=[z1, z2]") == {
        "web-a": "rerun",
        "web-b": "rerun",
        "reader-a": "rerun",  # reads web-a's output: known after apply
        "reader-b": "rerun",
        "zone-z1": "noop",
        "zone-z2": "noop",
    }
    (stack.root / "owner.auto.vars.yaml").write_text("owner: from-default\n", encoding="utf-8")
    assert set(_changes(stack, "--var", "zones=[z1, z2]").values()) == {"noop"}
    assert _changes(stack, "--var", "zones=[z1, z2]", "--var", "owner=x")["web-a"] == "rerun"
    # a var file with a list: the forEach follows it
    var_file = stack.root / "prod.vars.yaml"
    var_file.write_text("zones: [z2, z3]\n", encoding="utf-8")
    zones = _changes(stack, "--var-file", str(var_file))
    assert (zones["zone-z1"], zones["zone-z2"], zones["zone-z3"]) == ("delete", "noop", "start")


def test_target_on_a_for_each_base_name_selects_all_its_runs(stack: Stack) -> None:
    _language_stack(stack)
    targeted = _changes(stack, "--target", "web")
    assert targeted == {"web-a": "start", "web-b": "start"}
    with_readers = _changes(stack, "--target", "reader")
    assert set(with_readers) == {"reader-a", "reader-b", "web-a", "web-b"}  # with what they depend on
    unknown = stack.cli(["plan", "--target", "webb"])
    assert unknown.code == 1 and "no run named 'webb'" in unknown.err, unknown


def test_an_unknown_key_built_name_is_a_located_error(stack: Stack) -> None:
    _language_stack(stack)
    runs = yaml.safe_load_all((stack.root / "manifests" / "runs.yaml").read_text(encoding="utf-8"))
    docs: list[dict[str, Any]] = list(runs)
    docs[1]["spec"]["forEach"]["c"] = {"n": 3}
    stack.write_runs(docs)
    planned = stack.cli(["plan"])
    assert planned.code == 1, planned
    assert (
        "manifests/runs.yaml:19:15: ${runs.web-${each.key}.outputs.shout} in run 'reader-c' names run 'web-c', "
        "which is not declared" in planned.err
    ), planned


def test_a_missing_environment_variable_is_reported_once(stack: Stack, tmp_path: Path) -> None:
    secret = {"type": "SecureString", "valueFrom": {"env": "SHARED_PASSWORD"}}
    stack.write_runs([run_doc(f"s{i}", SECRET, {"name": f"s{i}", "password": secret}) for i in range(4)])
    planned = stack.cli(["plan"])
    assert planned.code == 1, planned
    lines = [line for line in planned.err.splitlines() if "SHARED_PASSWORD" in line]
    assert lines == [
        "Error: manifests/runs.yaml:12:14: environment variable 'SHARED_PASSWORD' is not set "
        "(needed by s0.password, s1.password, s2.password, s3.password)"
    ], planned.err
