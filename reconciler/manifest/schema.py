"""JSON Schema of the stack and WorkflowRun formats, for ``reconciler schema`` and editors.

Generated from the same models that validate the files, so the two cannot drift. One document
covers both formats (``oneOf``, told apart by ``kind``); yaml-language-server and check-jsonschema
read it as it is.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from reconciler.manifest.models import ExplicitParameter, StackConfig, WorkflowRun

SCHEMA_ID = "urn:reconciler:schema:v1"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The combined schema: a file document is either a Stack or a WorkflowRun."""
    models = [(StackConfig, "validation"), (WorkflowRun, "validation"), (ExplicitParameter, "validation")]
    refs, definitions = models_json_schema(models, ref_template="#/$defs/{model}")  # type: ignore[arg-type]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "reconciler manifests (reconciler/v1)",
        "oneOf": [refs[(StackConfig, "validation")], refs[(WorkflowRun, "validation")]],
        "$defs": definitions["$defs"],
    }
