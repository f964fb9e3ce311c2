from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ws_parameter import WsParameter


T = TypeVar("T", bound="ExecutionContext")


@_attrs_define
class ExecutionContext:
    """Definition of ExecutionContext.

    Example:
        {'parameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name', 'description': 'description', 'type':
            'type', 'updated': True, 'value': {'inputType': 'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name':
            'name', 'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}]}

    Attributes:
        parameters (list[WsParameter] | Unset):
    """

    parameters: list[WsParameter] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        parameters: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = []
            for parameters_item_data in self.parameters:
                parameters_item = parameters_item_data.to_dict()
                parameters.append(parameters_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if parameters is not UNSET:
            field_dict["parameters"] = parameters

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ws_parameter import WsParameter

        d = dict(src_dict)
        _parameters = d.pop("parameters", UNSET)
        parameters: list[WsParameter] | Unset = UNSET
        if _parameters is not UNSET:
            parameters = []
            for parameters_item_data in _parameters:
                parameters_item = WsParameter.from_dict(parameters_item_data)

                parameters.append(parameters_item)

        execution_context = cls(
            parameters=parameters,
        )

        execution_context.additional_properties = d
        return execution_context

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
