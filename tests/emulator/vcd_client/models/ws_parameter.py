from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ws_parameter_scope import WsParameterScope
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.parameter import Parameter


T = TypeVar("T", bound="WsParameter")


@_attrs_define
class WsParameter:
    """Definition of WsParameter.

    Example:
        {'encryptValue': True, 'scope': 'local', 'name': 'name', 'description': 'description', 'type': 'type',
            'updated': True, 'value': {'inputType': 'inputType'}}

    Attributes:
        description (str | Unset):
        encrypt_value (bool | Unset):
        name (str | Unset):
        scope (WsParameterScope | Unset):
        type_ (str | Unset):
        updated (bool | Unset):
        value (Parameter | Unset): Definition of Parameter.
             Example: {'inputType': 'inputType'}.
    """

    description: str | Unset = UNSET
    encrypt_value: bool | Unset = UNSET
    name: str | Unset = UNSET
    scope: WsParameterScope | Unset = UNSET
    type_: str | Unset = UNSET
    updated: bool | Unset = UNSET
    value: Parameter | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        description = self.description

        encrypt_value = self.encrypt_value

        name = self.name

        scope: str | Unset = UNSET
        if not isinstance(self.scope, Unset):
            scope = self.scope.value

        type_ = self.type_

        updated = self.updated

        value: dict[str, Any] | Unset = UNSET
        if not isinstance(self.value, Unset):
            value = self.value.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if description is not UNSET:
            field_dict["description"] = description
        if encrypt_value is not UNSET:
            field_dict["encryptValue"] = encrypt_value
        if name is not UNSET:
            field_dict["name"] = name
        if scope is not UNSET:
            field_dict["scope"] = scope
        if type_ is not UNSET:
            field_dict["type"] = type_
        if updated is not UNSET:
            field_dict["updated"] = updated
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.parameter import Parameter

        d = dict(src_dict)
        description = d.pop("description", UNSET)

        encrypt_value = d.pop("encryptValue", UNSET)

        name = d.pop("name", UNSET)

        _scope = d.pop("scope", UNSET)
        scope: WsParameterScope | Unset
        if isinstance(_scope, Unset):
            scope = UNSET
        else:
            scope = WsParameterScope(_scope)

        type_ = d.pop("type", UNSET)

        updated = d.pop("updated", UNSET)

        _value = d.pop("value", UNSET)
        value: Parameter | Unset
        if isinstance(_value, Unset):
            value = UNSET
        else:
            value = Parameter.from_dict(_value)

        ws_parameter = cls(
            description=description,
            encrypt_value=encrypt_value,
            name=name,
            scope=scope,
            type_=type_,
            updated=updated,
            value=value,
        )

        ws_parameter.additional_properties = d
        return ws_parameter

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
