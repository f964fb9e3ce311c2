"""Defaults of the stack file that are read without building its models (`reconciler.manifest.models`
uses them as field defaults): `reconciler init` names the API version in its ``--help``, which must
not pay for pydantic."""

from __future__ import annotations

DEFAULT_ENDPOINT_API_VERSION = "37.2"
