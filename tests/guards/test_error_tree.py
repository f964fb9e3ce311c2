"""Every exception the tool raises on purpose is in `reconciler.errors`' tree (DESIGN: one tree).

Found by reading the source: each class defined in ``reconciler/`` that derives from an exception
must derive from `ReconcilerError`, and no module raises a bare ``ValueError``/``KeyError``/
``RuntimeError`` of its own (library errors are chained as causes of ours). The few exceptions to
the rule are listed with their reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import reconciler
from reconciler.errors import ReconcilerError

ROOT = Path(reconciler.__file__).parent
# module -> class or raise: why it stays outside the tree
OUTSIDE = {
    "reconciler.emulator.faults.ConnectionDropped": "a simulated network failure: must be a ConnectionError",
    "raise ValueError @ reconciler/manifest/parsing.py": "an invariant of the module (a bug if it fails)",
    "raise RuntimeError @ reconciler/emulator/serving.py": "left to the emulator's start-up (another change)",
}
BARE = ("ValueError", "KeyError", "RuntimeError", "TypeError", "Exception")


def _modules() -> list[str]:
    return [
        "reconciler." + ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted(ROOT.rglob("*.py"))
    ]


def test_every_exception_class_of_the_tool_is_in_the_tree() -> None:
    outside = []
    for name in _modules():
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            if not issubclass(cls, ReconcilerError) and f"{name}.{cls_name}" not in OUTSIDE:
                outside.append(f"{name}.{cls_name}")
    assert outside == []


def test_no_bare_library_error_is_raised_on_purpose() -> None:
    raised = []
    for path in sorted(ROOT.rglob("*.py")):
        where = path.relative_to(ROOT.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = call.id if isinstance(call, ast.Name) else None
            if name in BARE and f"raise {name} @ {where}" not in OUTSIDE:
                raised.append(f"raise {name} @ {where}:{node.lineno}")
    assert raised == []
