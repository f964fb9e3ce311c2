"""What ``reconciler import`` records of an execution it adopts: the inputs it was started with.

A run's plan explains a re-run by comparing its declared inputs with the recorded ones (`diffs`). An
adopted execution started with other values than the manifests declare must therefore be recorded
with the values it was started with, or the plan can only show every input as added (``+ new``)
instead of ``~ old -> new``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.parameters import ParamType
from reconciler.planning.changes import PlannedInput
from reconciler.planning.fingerprints import record_input
from reconciler.planning.resolving import UNKNOWN
from reconciler.state.models import RecordedInput

# equality of a declared value and the one the server spells back, for a type (`remote.matching.same_value`)
SameValue = Callable[[str, Any, Any], bool]


def adopted_inputs(
    declared: Mapping[str, PlannedInput], sent: Mapping[str, tuple[str, Any]], salt: str, same: SameValue
) -> dict[str, RecordedInput]:
    """The recorded inputs of an adopted execution, for the run's declared inputs.

    ``sent`` is what the server says the execution was started with (name -> (type, plain value)). Each
    declared input the execution has is recorded with the declared value where the server's is the same
    (so that the run key matches and the run is unchanged), else with the server's value (a secret only
    as its keyed hash); one it lacks is left out (the plan shows it added). Inputs the execution has
    that the manifests do not declare are not recorded: apply would not send them either."""
    recorded: dict[str, RecordedInput] = {}
    for name, planned in declared.items():
        if name not in sent:
            continue
        type_name, value = sent[name]
        if planned.value is not UNKNOWN and same(planned.type, planned.value, value):
            recorded[name] = record_input(planned.type, planned.value, planned.sensitive, salt)
        else:
            secret = planned.sensitive or ParamType(type_name).is_sensitive
            recorded[name] = record_input(planned.type, value, secret, salt)
    return recorded
