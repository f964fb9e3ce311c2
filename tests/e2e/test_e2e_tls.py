"""HTTPS against a private CA: the emulator serves TLS with a certificate from a CA made at test time
(trustme), the CLI verifies it through ``caFile`` or ``RECONCILER_CA_FILE``, and every way the
certificate can fail gives one line naming the endpoint, what failed and the two ways forward."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trustme

from tests.support.e2e import Result, Stack
from tests.support.tls import SERVED, Tls, https_emulator, https_stack, make_tls


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


def _apply(stack: Stack, env: dict[str, str] | None = None) -> Result:
    stack.env.update(env or {})
    return stack.cli(["apply", "--auto-approve"], timeout=60)


def test_a_private_ca_through_ca_file_relative_to_thehttps_stack(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with https_emulator(tmp_path, certfile, keyfile) as emulator:
        assert emulator.url.startswith("https://")
        stack = https_stack(tmp_path, emulator.url, caFile="ca/company-ca.pem")
        (stack.root / "ca").mkdir()
        (stack.root / "ca" / "company-ca.pem").write_bytes(tls.ca_file.read_bytes())
        result = _apply(stack)
        assert result.code == 0, result
        assert stack.state()["runs"]["hello"]["outputs"]["id"]


def test_a_private_ca_through_the_environment(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with https_emulator(tmp_path, certfile, keyfile) as emulator:
        result = _apply(https_stack(tmp_path, emulator.url), {"RECONCILER_CA_FILE": str(tls.ca_file)})
        assert result.code == 0, result


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("system store only", "unknown issuer"),
        ("another CA", "unknown issuer"),
        ("expired", "certificate expired"),
        ("wrong host name", "wrong host name"),
    ],
)
def test_a_certificate_that_cannot_be_verified_is_one_clear_line(
    tls: Tls, tmp_path: Path, case: str, reason: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = {
        "expired": lambda: tls.ca.issue_cert(
            SERVED, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
        ),
        "wrong host name": lambda: tls.ca.issue_cert("vcd.example.org"),
    }.get(case, lambda: tls.ca.issue_cert(SERVED))()
    certfile, keyfile = tls.serve(cert, "served")
    env: dict[str, str] = {}
    if case == "another CA":
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        env["RECONCILER_CA_FILE"] = str(other)
    elif case != "system store only":
        env["RECONCILER_CA_FILE"] = str(tls.ca_file)
    with https_emulator(tmp_path, certfile, keyfile) as emulator:
        stack = https_stack(tmp_path, emulator.url)
        result = _apply(stack, env)
        assert result.code == 1, result
        origin = emulator.url.replace("http://", "https://").rstrip("/")
        expected = f"cannot verify the TLS certificate of {origin}: {reason}"
        assert expected in result.err, result
        assert "caFile" in result.err and "verifyTls: false" in result.err, result
        assert "hello" not in stack.state().get("runs", {}), result


def test_verification_off_works_and_warns(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with https_emulator(tmp_path, certfile, keyfile) as emulator:
        result = _apply(https_stack(tmp_path, emulator.url, verifyTls=False))
        assert result.code == 0, result
        assert "TLS verification is off" in result.err, result
