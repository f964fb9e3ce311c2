from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.execution_state import ExecutionState
from ..types import UNSET, Unset

T = TypeVar("T", bound="ExecutionSummary")


@_attrs_define
class ExecutionSummary:
    """Definition of ExecutionSummary.

    Example:
        {'endDate': 'endDate', 'startedBy': 'startedBy', 'name': 'name', 'id': 'id', 'state': {}, 'startDate':
            'startDate'}

    Attributes:
        id (str | Unset):
        name (str | Unset):
        start_date (str | Unset):
        end_date (str | Unset):
        started_by (str | Unset):
        state (ExecutionState | Unset):
    """

    id: str | Unset = UNSET
    name: str | Unset = UNSET
    start_date: str | Unset = UNSET
    end_date: str | Unset = UNSET
    started_by: str | Unset = UNSET
    state: ExecutionState | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        start_date = self.start_date

        end_date = self.end_date

        started_by = self.started_by

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if name is not UNSET:
            field_dict["name"] = name
        if start_date is not UNSET:
            field_dict["startDate"] = start_date
        if end_date is not UNSET:
            field_dict["endDate"] = end_date
        if started_by is not UNSET:
            field_dict["startedBy"] = started_by
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id", UNSET)

        name = d.pop("name", UNSET)

        start_date = d.pop("startDate", UNSET)

        end_date = d.pop("endDate", UNSET)

        started_by = d.pop("startedBy", UNSET)

        _state = d.pop("state", UNSET)
        state: ExecutionState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = ExecutionState(_state)

        execution_summary = cls(
            id=id,
            name=name,
            start_date=start_date,
            end_date=end_date,
            started_by=started_by,
            state=state,
        )

        execution_summary.additional_properties = d
        return execution_summary

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
