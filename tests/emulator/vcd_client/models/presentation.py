from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.step_info import StepInfo
    from ..models.ws_parameter import WsParameter


T = TypeVar("T", bound="Presentation")


@_attrs_define
class Presentation:
    """Definition of Presentation.

    Example:
        {'name': 'name', 'description': 'description', 'vroId': 'vroId', 'id': 'id', 'inputParameters':
            [{'encryptValue': True, 'scope': 'local', 'name': 'name', 'description': 'description', 'type': 'type',
            'updated': True, 'value': {'inputType': 'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name': 'name',
            'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}], 'steps':
            ['', ''], 'outputParameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}, {'encryptValue': True,
            'scope': 'local', 'name': 'name', 'description': 'description', 'type': 'type', 'updated': True, 'value':
            {'inputType': 'inputType'}}]}

    Attributes:
        description (str | Unset):
        id (str | Unset):
        vro_id (str | Unset):
        input_parameters (list[WsParameter] | Unset):
        name (str | Unset):
        output_parameters (list[WsParameter] | Unset):
        steps (list[StepInfo] | Unset):
    """

    description: str | Unset = UNSET
    id: str | Unset = UNSET
    vro_id: str | Unset = UNSET
    input_parameters: list[WsParameter] | Unset = UNSET
    name: str | Unset = UNSET
    output_parameters: list[WsParameter] | Unset = UNSET
    steps: list[StepInfo] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        description = self.description

        id = self.id

        vro_id = self.vro_id

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

        steps: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.steps, Unset):
            steps = []
            for steps_item_data in self.steps:
                steps_item = steps_item_data.to_dict()
                steps.append(steps_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if description is not UNSET:
            field_dict["description"] = description
        if id is not UNSET:
            field_dict["id"] = id
        if vro_id is not UNSET:
            field_dict["vroId"] = vro_id
        if input_parameters is not UNSET:
            field_dict["inputParameters"] = input_parameters
        if name is not UNSET:
            field_dict["name"] = name
        if output_parameters is not UNSET:
            field_dict["outputParameters"] = output_parameters
        if steps is not UNSET:
            field_dict["steps"] = steps

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.step_info import StepInfo
        from ..models.ws_parameter import WsParameter

        d = dict(src_dict)
        description = d.pop("description", UNSET)

        id = d.pop("id", UNSET)

        vro_id = d.pop("vroId", UNSET)

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

        _steps = d.pop("steps", UNSET)
        steps: list[StepInfo] | Unset = UNSET
        if _steps is not UNSET:
            steps = []
            for steps_item_data in _steps:
                steps_item = StepInfo.from_dict(steps_item_data)

                steps.append(steps_item)

        presentation = cls(
            description=description,
            id=id,
            vro_id=vro_id,
            input_parameters=input_parameters,
            name=name,
            output_parameters=output_parameters,
            steps=steps,
        )

        presentation.additional_properties = d
        return presentation

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
