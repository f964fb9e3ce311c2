from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.key_value_pair import KeyValuePair


T = TypeVar("T", bound="Properties")


@_attrs_define
class Properties:
    """
    Attributes:
        input_type (str):
        property_ (list[KeyValuePair] | Unset):
    """

    input_type: str
    property_: list[KeyValuePair] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        input_type = self.input_type

        property_: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.property_, Unset):
            property_ = []
            for property_item_data in self.property_:
                property_item = property_item_data.to_dict()
                property_.append(property_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if property_ is not UNSET:
            field_dict["property"] = property_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.key_value_pair import KeyValuePair

        d = dict(src_dict)
        input_type = d.pop("inputType")

        _property_ = d.pop("property", UNSET)
        property_: list[KeyValuePair] | Unset = UNSET
        if _property_ is not UNSET:
            property_ = []
            for property_item_data in _property_:
                property_item = KeyValuePair.from_dict(property_item_data)

                property_.append(property_item)

        properties = cls(
            input_type=input_type,
            property_=property_,
        )

        properties.additional_properties = d
        return properties

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
