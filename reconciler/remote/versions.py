"""API version discovery: which versions a VCD offers (``GET /api/versions``) and which one to use.

VCD answers ``/api/versions`` without authentication, in XML by default (``SupportedVersions`` with
``VersionInfo deprecated="…"`` elements, each holding a ``Version``; go-vcloud-director's
``api_vcd_versions.go``) and in JSON when asked (``{"versionInfo": [{"version", "deprecated"}]}``).
Both are read here. ``apiVersion: auto`` picks the highest version the server offers that is not
deprecated, among the versions this tool is tested with (`TESTED_API_VERSIONS`, listed in README).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import CodecError

AUTO = "auto"
VERSIONS_PATH = "/api/versions"
# The API versions the tests run against (the emulator serves each); README lists them too.
TESTED_API_VERSIONS = ("37.0", "37.1", "37.2", "38.0")


@dataclass(frozen=True, slots=True)
class OfferedVersion:
    version: str
    deprecated: bool

    def __str__(self) -> str:
        return f"{self.version} (deprecated)" if self.deprecated else self.version


def read_versions(body: bytes, content_type: str) -> list[OfferedVersion]:
    """The versions in a ``/api/versions`` answer, XML or JSON; `CodecError` when it holds none."""
    text = body.decode("utf-8", errors="replace").lstrip()
    offered = _from_json(text) if "json" in content_type or text.startswith("{") else _from_xml(text)
    if not offered:
        raise CodecError("the server's /api/versions answer lists no version")
    return offered


def choose(offered: Sequence[OfferedVersion], tested: Sequence[str] = TESTED_API_VERSIONS) -> str | None:
    """The highest offered version that is tested and not deprecated; None when there is none."""
    usable = [o.version for o in offered if not o.deprecated and o.version in tested]
    return max(usable, key=_order) if usable else None


def describe(offered: Sequence[OfferedVersion]) -> str:
    return ", ".join(str(o) for o in sorted(offered, key=lambda o: _order(o.version)))


def _order(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("-")[0].split("."))


def _from_json(text: str) -> list[OfferedVersion]:
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise CodecError(f"the server's /api/versions answer is not JSON: {err}") from err
    rows = doc.get("versionInfo") if isinstance(doc, dict) else None
    return [_offered(row.get("version"), row.get("deprecated")) for row in rows or [] if isinstance(row, dict)]


def _from_xml(text: str) -> list[OfferedVersion]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise CodecError(f"the server's /api/versions answer is not XML: {err}") from err
    found = []
    for info in root.iter():
        if _local(info.tag) != "VersionInfo":
            continue
        version = next((child.text for child in info if _local(child.tag) == "Version"), None)
        found.append(_offered(version, info.get("deprecated")))
    return found


def _offered(version: Any, deprecated: Any) -> OfferedVersion:
    if not isinstance(version, str) or not version.strip():
        raise CodecError(f"the server's /api/versions answer has a version entry without a version: {version!r}")
    return OfferedVersion(version.strip(), deprecated is True or str(deprecated).lower() == "true")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
