"""Reading ``/api/versions`` (VCD's XML, or JSON) and choosing the version for ``apiVersion: auto``."""

from __future__ import annotations

import pytest

from reconciler.errors import CodecError
from reconciler.remote.versions import OfferedVersion, choose, describe, read_versions

# The shape of a real answer (go-vcloud-director's golden file for /api/versions), shortened.
VCD_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <VersionInfo deprecated="true">
        <Version>36.3</Version>
        <LoginUrl>https://vcd.example.org/api/sessions</LoginUrl>
    </VersionInfo>
    <VersionInfo deprecated="false">
        <Version>37.2</Version>
        <LoginUrl>https://vcd.example.org/api/sessions</LoginUrl>
    </VersionInfo>
    <VersionInfo deprecated="false">
        <Version>38.0</Version>
        <LoginUrl>https://vcd.example.org/api/sessions</LoginUrl>
    </VersionInfo>
    <VersionInfo deprecated="false">
        <Version>39.0.0-alpha</Version>
    </VersionInfo>
</SupportedVersions>
"""


def test_vcd_xml() -> None:
    offered = read_versions(VCD_XML, "application/*+xml;version=38.0")
    assert offered == [
        OfferedVersion("36.3", True),
        OfferedVersion("37.2", False),
        OfferedVersion("38.0", False),
        OfferedVersion("39.0.0-alpha", False),
    ]
    assert choose(offered) == "38.0"  # 39.0.0-alpha is not tested
    assert describe(offered) == "36.3 (deprecated), 37.2, 38.0, 39.0.0-alpha"


def test_json() -> None:
    body = b'{"versionInfo": [{"version": "37.1", "deprecated": false}, {"version": "37.0", "deprecated": true}]}'
    assert choose(read_versions(body, "application/json")) == "37.1"


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([OfferedVersion("37.2", True), OfferedVersion("37.1", False)], "37.1"),  # deprecated is skipped
        ([OfferedVersion("36.3", False), OfferedVersion("39.1", False)], None),  # none tested
        ([OfferedVersion("37.10", False), OfferedVersion("37.2", False)], "37.2"),  # 37.10 is not tested
    ],
)
def test_choose(offered: list[OfferedVersion], chosen: str | None) -> None:
    assert choose(offered) == chosen


@pytest.mark.parametrize(
    "body",
    [b"<html>not it</html>", b"<SupportedVersions/>", b"{}", b"{not json", b"<VersionInfo><Version/></VersionInfo>"],
)
def test_unreadable_answers_are_codec_errors(body: bytes) -> None:
    with pytest.raises(CodecError):
        read_versions(body, "")
