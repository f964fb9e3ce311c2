"""A path the CLI cannot use (missing folder, a directory, a file that is not UTF-8 text, an address
that cannot be bound, a certificate that cannot be loaded) is one clear line and exit 1, never a
traceback (`run_cli` asserts that no traceback reached the user)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.e2e import run_cli

STACK = """\
apiVersion: reconciler/v1
kind: Stack
metadata: {name: t}
spec:
  manifests: [manifests]
"""
RUN = """\
apiVersion: reconciler/v1
kind: WorkflowRun
metadata: {name: one}
spec:
  workflow: wf
  parameters:
    name: a
"""
NOT_UTF8 = b"\xff\xfe not text"


def _stack(root: Path, run: str = RUN) -> Path:
    (root / "reconciler.yaml").write_text(STACK)
    (root / "manifests").mkdir()
    (root / "manifests" / "one.yaml").write_text(run)
    (root / "binary.dat").write_bytes(NOT_UTF8)
    return root


def _fails(root: Path, args: list[str], message: str) -> None:
    result = run_cli(args, cwd=root, timeout=30)
    assert result.code == 1, result
    assert message in result.err, result
    assert len(result.err.strip().splitlines()) == 1, result  # one clear line


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing-folder/x.plan", "cannot write the plan to missing-folder/x.plan: No such file or directory"),
        ("manifests", "cannot write the plan to manifests: Is a directory"),
    ],
)
def test_plan_out_to_a_path_that_cannot_be_written(tmp_path: Path, out: str, message: str) -> None:
    _fails(_stack(tmp_path), ["plan", "--no-refresh", "--out", out], message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--no-refresh", "--var-file", "binary.dat"], "cannot read --var-file binary.dat: not UTF-8 text"),
        (["apply", "binary.dat"], "cannot read binary.dat: not UTF-8 text"),
        (["show", "binary.dat"], "cannot read binary.dat: not UTF-8 text"),
        (["state", "push", "binary.dat"], "cannot read binary.dat: not UTF-8 text"),
        (["emulator", "--port", "0", "--catalog", "binary.dat"], "cannot read catalog binary.dat: not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_utf8_text(tmp_path: Path, args: list[str], message: str) -> None:
    _fails(_stack(tmp_path), args, message)


@pytest.mark.parametrize(
    ("place", "message"),
    [
        (lambda root: root / "manifests" / "two.yaml", "cannot read manifests/two.yaml: not UTF-8 text"),
        (lambda root: root / "reconciler.yaml", "reconciler.yaml: not UTF-8 text"),
    ],
)
def test_a_stack_or_manifest_file_that_is_not_utf8_text(
    tmp_path: Path, place: Callable[[Path], Path], message: str
) -> None:
    root = _stack(tmp_path)
    place(root).write_bytes(NOT_UTF8)
    _fails(root, ["validate"], message)


def test_a_value_from_file_that_is_not_utf8_text_is_a_located_problem(tmp_path: Path) -> None:
    root = _stack(tmp_path, RUN.replace("name: a", "name: {type: string, valueFrom: {file: binary.dat}}"))
    _fails(root, ["validate"], "manifests/one.yaml:7:")
    assert "cannot read file 'binary.dat': not UTF-8 text" in run_cli(["validate"], cwd=root).err


def test_emulator_on_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _fails(
            tmp_path, ["emulator", "--port", str(port)], f"cannot listen on 127.0.0.1:{port}: Address already in use"
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "999.1.1.1"], "cannot listen on 999.1.1.1:0: "),
        (["--certfile", "missing.pem"], "cannot load the TLS certificate missing.pem: No such file or directory"),
        (["--certfile", "binary.dat"], "cannot load the TLS certificate binary.dat: not a usable PEM certificate"),
        (["--keyfile", "binary.dat"], "a TLS key (--keyfile) needs its certificate (--certfile)"),
    ],
)
def test_emulator_that_cannot_serve(tmp_path: Path, args: list[str], message: str) -> None:
    _fails(_stack(tmp_path), ["emulator", "--port", "0", *args], message)
