from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.parameter import Parameter


T = TypeVar("T", bound="KeyValuePair")


@_attrs_define
class KeyValuePair:
    """
    Attributes:
        input_type (str):
        key (str | Unset):
        value (Parameter | Unset): Definition of Parameter.
             Example: {'inputType': 'inputType'}.
    """

    input_type: str
    key: str | Unset = UNSET
    value: Parameter | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        input_type = self.input_type

        key = self.key

        value: dict[str, Any] | Unset = UNSET
        if not isinstance(self.value, Unset):
            value = self.value.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if key is not UNSET:
            field_dict["key"] = key
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.parameter import Parameter

        d = dict(src_dict)
        input_type = d.pop("inputType")

        key = d.pop("key", UNSET)

        _value = d.pop("value", UNSET)
        value: Parameter | Unset
        if isinstance(_value, Unset):
            value = UNSET
        else:
            value = Parameter.from_dict(_value)

        key_value_pair = cls(
            input_type=input_type,
            key=key,
            value=value,
        )

        key_value_pair.additional_properties = d
        return key_value_pair

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
