from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execution_summary import ExecutionSummary


T = TypeVar("T", bound="PresentationExecutionsList")


@_attrs_define
class PresentationExecutionsList:
    """Definition of PresentationExecutionsList.

    Example:
        {'total': 0, 'executions': [{'endDate': 'endDate', 'startedBy': 'startedBy', 'name': 'name', 'id': 'id',
            'state': {}, 'startDate': 'startDate'}, {'endDate': 'endDate', 'startedBy': 'startedBy', 'name': 'name', 'id':
            'id', 'state': {}, 'startDate': 'startDate'}], 'start': 6}

    Attributes:
        total (int | Unset):
        executions (list[ExecutionSummary] | Unset):
        start (int | Unset):
    """

    total: int | Unset = UNSET
    executions: list[ExecutionSummary] | Unset = UNSET
    start: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        total = self.total

        executions: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.executions, Unset):
            executions = []
            for executions_item_data in self.executions:
                executions_item = executions_item_data.to_dict()
                executions.append(executions_item)

        start = self.start

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if total is not UNSET:
            field_dict["total"] = total
        if executions is not UNSET:
            field_dict["executions"] = executions
        if start is not UNSET:
            field_dict["start"] = start

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.execution_summary import ExecutionSummary

        d = dict(src_dict)
        total = d.pop("total", UNSET)

        _executions = d.pop("executions", UNSET)
        executions: list[ExecutionSummary] | Unset = UNSET
        if _executions is not UNSET:
            executions = []
            for executions_item_data in _executions:
                executions_item = ExecutionSummary.from_dict(executions_item_data)

                executions.append(executions_item)

        start = d.pop("start", UNSET)

        presentation_executions_list = cls(
            total=total,
            executions=executions,
            start=start,
        )

        presentation_executions_list.additional_properties = d
        return presentation_executions_list

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
