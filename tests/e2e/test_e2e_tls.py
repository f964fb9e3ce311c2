"""HTTPS against a private CA: the emulator serves TLS with a certificate from a CA made at test time
(trustme), the CLI verifies it through ``caFile`` or ``RECONCILER_CA_FILE``, and every way the
certificate can fail gives one line naming the endpoint, what failed and the two ways forward."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
import yaml

from tests.support.e2e import CATALOG, ECHO, Emulator, Result, Stack, run_doc, start_emulator, stop

SERVED = "127.0.0.1"


@dataclass
class Tls:
    ca: trustme.CA
    ca_file: Path
    folder: Path

    def serve(self, cert: trustme.LeafCert, name: str) -> tuple[Path, Path]:
        certfile, keyfile = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        cert.private_key_pem.write_to_path(str(keyfile))
        certfile.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        return certfile, keyfile


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    ca = trustme.CA()
    ca_file = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(ca, ca_file, tmp_path)


@contextmanager
def _https_emulator(tmp_path: Path, certfile: Path, keyfile: Path) -> Iterator[Emulator]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    emulator = start_emulator(catalog, "--certfile", str(certfile), "--keyfile", str(keyfile))
    try:
        yield emulator
    finally:
        stop(emulator.process)


def _stack(tmp_path: Path, url: str, **endpoint: object) -> Stack:
    root = tmp_path / "stack"
    root.mkdir()
    stack = Stack(root, url.replace("http://", "https://"))
    stack.write_stack(2)
    doc = yaml.safe_load((root / "reconciler.yaml").read_text(encoding="utf-8"))
    doc["spec"]["endpoint"].update(endpoint)
    (root / "reconciler.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stack.write_runs([run_doc("hello", ECHO, {"name": "hello"})])
    return stack


def _apply(stack: Stack, env: dict[str, str] | None = None) -> Result:
    stack.env.update(env or {})
    return stack.cli(["apply", "--auto-approve"], timeout=60)


def test_a_private_ca_through_ca_file_relative_to_the_stack(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with _https_emulator(tmp_path, certfile, keyfile) as emulator:
        assert emulator.url.startswith("https://")
        stack = _stack(tmp_path, emulator.url, caFile="ca/company-ca.pem")
        (stack.root / "ca").mkdir()
        (stack.root / "ca" / "company-ca.pem").write_bytes(tls.ca_file.read_bytes())
        result = _apply(stack)
        assert result.code == 0, result
        assert stack.state()["runs"]["hello"]["outputs"]["id"]


def test_a_private_ca_through_the_environment(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with _https_emulator(tmp_path, certfile, keyfile) as emulator:
        result = _apply(_stack(tmp_path, emulator.url), {"RECONCILER_CA_FILE": str(tls.ca_file)})
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
    with _https_emulator(tmp_path, certfile, keyfile) as emulator:
        stack = _stack(tmp_path, emulator.url)
        result = _apply(stack, env)
        assert result.code == 1, result
        origin = emulator.url.replace("http://", "https://").rstrip("/")
        expected = f"cannot verify the TLS certificate of {origin}: {reason}"
        assert expected in result.err, result
        assert "caFile" in result.err and "verifyTls: false" in result.err, result
        assert "hello" not in stack.state().get("runs", {}), result


def test_verification_off_works_and_warns(tls: Tls, tmp_path: Path) -> None:
    certfile, keyfile = tls.serve(tls.ca.issue_cert(SERVED), "good")
    with _https_emulator(tmp_path, certfile, keyfile) as emulator:
        result = _apply(_stack(tmp_path, emulator.url, verifyTls=False))
        assert result.code == 0, result
        assert "TLS verification is off" in result.err, result
