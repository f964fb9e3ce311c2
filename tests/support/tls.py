"""HTTPS for end-to-end tests: a CA made at test time (trustme), an emulator serving a certificate it
issued, and a stack folder pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme
import yaml

from tests.support.e2e import CATALOG, ECHO, Emulator, Stack, run_doc, start_emulator, stop

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


def make_tls(tmp_path: Path) -> Tls:
    ca = trustme.CA()
    ca_file = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(ca, ca_file, tmp_path)


@contextmanager
def https_emulator(tmp_path: Path, certfile: Path, keyfile: Path) -> Iterator[Emulator]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    emulator = start_emulator(catalog, "--certfile", str(certfile), "--keyfile", str(keyfile))
    try:
        yield emulator
    finally:
        stop(emulator.process)


def https_stack(tmp_path: Path, url: str, **endpoint: object) -> Stack:
    root = tmp_path / "stack"
    root.mkdir()
    stack = Stack(root, url.replace("http://", "https://"))
    stack.write_stack(2)
    doc = yaml.safe_load((root / "reconciler.yaml").read_text(encoding="utf-8"))
    doc["spec"]["endpoint"].update(endpoint)
    (root / "reconciler.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    stack.write_runs([run_doc("hello", ECHO, {"name": "hello"})])
    return stack
