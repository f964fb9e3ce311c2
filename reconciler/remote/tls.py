"""What a TLS connection showed of the server's certificate (for ``reconciler check``)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class Certificate:
    """The server's certificate as verified on a connection: who it names, who issued it, until when."""

    subject: str
    issuer: str
    not_after: datetime | None


def peer_certificate(response: httpx.Response) -> Certificate | None:
    """The verified certificate of the connection ``response`` came over; None for plain HTTP, and
    when verification is off (then Python does not decode the certificate)."""
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    seen = ssl_object.getpeercert()
    if not seen:
        return None
    return Certificate(_name(seen.get("subject")), _name(seen.get("issuer")), _date(seen.get("notAfter")))


def _name(rdns: Any) -> str:
    """``CN=vcd.example.org, O=Example`` from the tuple form ``getpeercert`` returns."""
    parts = [f"{_SHORT.get(key, key)}={value}" for rdn in rdns or () for key, value in rdn]
    return ", ".join(parts) or "(empty)"


_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}


def _date(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(text), tz=UTC)
