"""``reconciler check`` as a new user runs it against a new endpoint: the emulator over HTTPS with a
private CA, then each way the first contact goes wrong (CA, version, password, workflow access)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.e2e import ECHO, Stack, run_doc
from tests.support.tls import SERVED, Tls, https_emulator, https_stack, make_tls

UNKNOWN = "00000000-0000-4000-8000-0000000000ff"


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


def _endpoint(stack: Stack, **fields: object) -> None:
    path = stack.root / "reconciler.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["spec"]["endpoint"].update(fields)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def test_every_item_passes_with_the_private_ca(tls: Tls, tmp_path: Path) -> None:
    with https_emulator(tmp_path, *tls.serve(tls.ca.issue_cert(SERVED), "good")) as emulator:
        stack = https_stack(tmp_path, emulator.url, caFile=str(tls.ca_file), apiVersion="auto")
        result = stack.cli(["check"])
        assert result.code == 0, result
        lines = result.out.splitlines()
        assert lines[0] == f"Checking {stack.url.rstrip('/')}"
        tls_line = next(line for line in lines if "tls:" in line)
        assert ("PASS" in tls_line and f"certificate CN={SERVED}" not in tls_line) or "issued by" in tls_line, result
        assert "expires " in tls_line and "days)" in tls_line, result
        assert any("PASS  api version:" in line and "using 37.2 (apiVersion: auto)" in line for line in lines), result
        assert any("PASS  login: logged in as admin@System; API version 37.2" in line for line in lines), result
        assert any(f"PASS  workflow {ECHO}:" in line for line in lines), result
        assert lines[-1] == "All checks passed."
        assert "using API version 37.2 (apiVersion: auto; the server offers 37.1, 37.2)" in result.err  # the catalog's
        starts = httpx.get(
            f"{stack.url.rstrip('/')}/_emulator/starts",
            verify=ssl.create_default_context(cafile=str(tls.ca_file)),
            timeout=10,
        ).json()
        assert starts == []  # check starts nothing


def test_json_names_each_failure_and_exits_1(tls: Tls, tmp_path: Path) -> None:
    with https_emulator(tmp_path, *tls.serve(tls.ca.issue_cert(SERVED), "good")) as emulator:
        stack = https_stack(tmp_path, emulator.url, caFile=str(tls.ca_file))
        stack.write_runs([run_doc("hello", ECHO, {"name": "x"}), run_doc("ghost", UNKNOWN, {"name": "y"})])
        result = stack.cli(["check", "--json"])
        assert result.code == 1, result
        report = result.json()
        assert report["ok"] is False
        by_name = {item["check"]: item for item in report["checks"]}
        assert by_name["tls"]["ok"] and by_name["login"]["ok"]
        assert by_name[f"workflow {ECHO}"]["ok"]
        ghost = by_name[f"workflow {UNKNOWN}"]
        assert not ghost["ok"] and "not available to you (403" in ghost["detail"], ghost


@pytest.mark.parametrize(
    ("change", "failing", "expected"),
    [
        ({}, "connect", "cannot verify the TLS certificate"),  # no caFile: the system store does not know the CA
        ({"apiVersion": "31.0"}, "api version", "31.0 is not among them"),
        ({"auth": {"username": "admin", "passwordFrom": {"env": "WRONG_PASSWORD"}}}, "login", "401"),
    ],
)
def test_each_first_contact_failure_is_a_fail_line(
    tls: Tls, tmp_path: Path, change: dict[str, object], failing: str, expected: str
) -> None:
    with https_emulator(tmp_path, *tls.serve(tls.ca.issue_cert(SERVED), "good")) as emulator:
        trusted = {"caFile": str(tls.ca_file)} if change else {}
        stack = https_stack(tmp_path, emulator.url, **trusted)
        _endpoint(stack, **change)
        stack.env["WRONG_PASSWORD"] = "not-the-password"
        result = stack.cli(["check"])
        assert result.code == 1, result
        line = next((ln for ln in result.out.splitlines() if f"  FAIL  {failing}:" in ln), None)
        assert line is not None and expected in line, result
        assert result.out.splitlines()[-1].endswith("check(s) failed.")


def test_a_version_the_server_does_not_speak_names_the_ones_it_offers(tls: Tls, tmp_path: Path) -> None:
    with https_emulator(tmp_path, *tls.serve(tls.ca.issue_cert(SERVED), "good")) as emulator:
        stack = https_stack(tmp_path, emulator.url, caFile=str(tls.ca_file), apiVersion="31.0")
        result = stack.cli(["apply", "--auto-approve"])
        assert result.code == 1, result
        assert "does not support API version 31.0; it offers 37.1, 37.2" in result.err, result
        assert "or to auto" in result.err, result
