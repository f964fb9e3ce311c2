from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.execution_state import ExecutionState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.relations import Relations
    from ..models.ws_parameter import WsParameter


T = TypeVar("T", bound="WsWorkflowExecution")


@_attrs_define
class WsWorkflowExecution:
    """Definition of WsWorkflowExecution.

    Example:
        {'businessState': 'businessState', 'endDate': datetime.datetime(2000, 1, 23, 4, 56, 7,
            tzinfo=datetime.timezone(datetime.timedelta(0), '+00:00')), 'startedBy': 'startedBy', 'name': 'name', 'id':
            'id', 'state': {}, 'relations': {'total': 0, 'link': [{'rel': 'rel', 'name': 'name', 'attributes':
            [{'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}, {'displayValue': 'displayValue', 'name':
            'name', 'value': 'value'}], 'href': 'href', 'type': 'type'}, {'rel': 'rel', 'name': 'name', 'attributes':
            [{'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}, {'displayValue': 'displayValue', 'name':
            'name', 'value': 'value'}], 'href': 'href', 'type': 'type'}], 'start': 6}, 'contentException':
            'contentException', 'inputParameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}, {'encryptValue': True,
            'scope': 'local', 'name': 'name', 'description': 'description', 'type': 'type', 'updated': True, 'value':
            {'inputType': 'inputType'}}], 'currentItemDisplayName': 'currentItemDisplayName', 'startDate':
            datetime.datetime(2000, 1, 23, 4, 56, 7, tzinfo=datetime.timezone(datetime.timedelta(0), '+00:00')),
            'outputParameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name', 'description': 'description',
            'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}, {'encryptValue': True, 'scope': 'local',
            'name': 'name', 'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType':
            'inputType'}}]}

    Attributes:
        business_state (str | Unset):
        content_exception (str | Unset):
        current_item_display_name (str | Unset):
        end_date (datetime.datetime | Unset):
        id (str | Unset):
        input_parameters (list[WsParameter] | Unset):
        name (str | Unset):
        output_parameters (list[WsParameter] | Unset):
        relations (Relations | Unset): Definition of Relations.
             Example: {'total': 0, 'link': [{'rel': 'rel', 'name': 'name', 'attributes': [{'displayValue': 'displayValue',
            'name': 'name', 'value': 'value'}, {'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}], 'href':
            'href', 'type': 'type'}, {'rel': 'rel', 'name': 'name', 'attributes': [{'displayValue': 'displayValue', 'name':
            'name', 'value': 'value'}, {'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}], 'href': 'href',
            'type': 'type'}], 'start': 6}.
        start_date (datetime.datetime | Unset):
        started_by (str | Unset):
        state (ExecutionState | Unset):
    """

    business_state: str | Unset = UNSET
    content_exception: str | Unset = UNSET
    current_item_display_name: str | Unset = UNSET
    end_date: datetime.datetime | Unset = UNSET
    id: str | Unset = UNSET
    input_parameters: list[WsParameter] | Unset = UNSET
    name: str | Unset = UNSET
    output_parameters: list[WsParameter] | Unset = UNSET
    relations: Relations | Unset = UNSET
    start_date: datetime.datetime | Unset = UNSET
    started_by: str | Unset = UNSET
    state: ExecutionState | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        business_state = self.business_state

        content_exception = self.content_exception

        current_item_display_name = self.current_item_display_name

        end_date: str | Unset = UNSET
        if not isinstance(self.end_date, Unset):
            end_date = self.end_date.isoformat()

        id = self.id

        input_parameters: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.input_parameters, Unset):
            input_parameters = []
            for input_parameters_item_data in self.input_parameters:
                input_parameters_item = input_parameters_item_data.to_dict()
                input_parameters.append(input_parameters_item)

        name = self.name

        output_parameters: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.output_parameters, Unset):
            output_parameters = []
            for output_parameters_item_data in self.output_parameters:
                output_parameters_item = output_parameters_item_data.to_dict()
                output_parameters.append(output_parameters_item)

        relations: dict[str, Any] | Unset = UNSET
        if not isinstance(self.relations, Unset):
            relations = self.relations.to_dict()

        start_date: str | Unset = UNSET
        if not isinstance(self.start_date, Unset):
            start_date = self.start_date.isoformat()

        started_by = self.started_by

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if business_state is not UNSET:
            field_dict["businessState"] = business_state
        if content_exception is not UNSET:
            field_dict["contentException"] = content_exception
        if current_item_display_name is not UNSET:
            field_dict["currentItemDisplayName"] = current_item_display_name
        if end_date is not UNSET:
            field_dict["endDate"] = end_date
        if id is not UNSET:
            field_dict["id"] = id
        if input_parameters is not UNSET:
            field_dict["inputParameters"] = input_parameters
        if name is not UNSET:
            field_dict["name"] = name
        if output_parameters is not UNSET:
            field_dict["outputParameters"] = output_parameters
        if relations is not UNSET:
            field_dict["relations"] = relations
        if start_date is not UNSET:
            field_dict["startDate"] = start_date
        if started_by is not UNSET:
            field_dict["startedBy"] = started_by
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.relations import Relations
        from ..models.ws_parameter import WsParameter

        d = dict(src_dict)
        business_state = d.pop("businessState", UNSET)

        content_exception = d.pop("contentException", UNSET)

        current_item_display_name = d.pop("currentItemDisplayName", UNSET)

        _end_date = d.pop("endDate", UNSET)
        end_date: datetime.datetime | Unset
        if isinstance(_end_date, Unset):
            end_date = UNSET
        else:
            end_date = datetime.datetime.fromisoformat(_end_date)

        id = d.pop("id", UNSET)

        _input_parameters = d.pop("inputParameters", UNSET)
        input_parameters: list[WsParameter] | Unset = UNSET
        if _input_parameters is not UNSET:
            input_parameters = []
            for input_parameters_item_data in _input_parameters:
                input_parameters_item = WsParameter.from_dict(input_parameters_item_data)

                input_parameters.append(input_parameters_item)

        name = d.pop("name", UNSET)

        _output_parameters = d.pop("outputParameters", UNSET)
        output_parameters: list[WsParameter] | Unset = UNSET
        if _output_parameters is not UNSET:
            output_parameters = []
            for output_parameters_item_data in _output_parameters:
                output_parameters_item = WsParameter.from_dict(output_parameters_item_data)

                output_parameters.append(output_parameters_item)

        _relations = d.pop("relations", UNSET)
        relations: Relations | Unset
        if isinstance(_relations, Unset):
            relations = UNSET
        else:
            relations = Relations.from_dict(_relations)

        _start_date = d.pop("startDate", UNSET)
        start_date: datetime.datetime | Unset
        if isinstance(_start_date, Unset):
            start_date = UNSET
        else:
            start_date = datetime.datetime.fromisoformat(_start_date)

        started_by = d.pop("startedBy", UNSET)

        _state = d.pop("state", UNSET)
        state: ExecutionState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = ExecutionState(_state)

        ws_workflow_execution = cls(
            business_state=business_state,
            content_exception=content_exception,
            current_item_display_name=current_item_display_name,
            end_date=end_date,
            id=id,
            input_parameters=input_parameters,
            name=name,
            output_parameters=output_parameters,
            relations=relations,
            start_date=start_date,
            started_by=started_by,
            state=state,
        )

        ws_workflow_execution.additional_properties = d
        return ws_workflow_execution

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
