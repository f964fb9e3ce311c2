from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SdkObject")


@_attrs_define
class SdkObject:
    """
    Attributes:
        input_type (str):
        type_ (str | Unset):
        href (str | Unset):
        id (str | Unset):
        display_value (str | Unset):
    """

    input_type: str
    type_: str | Unset = UNSET
    href: str | Unset = UNSET
    id: str | Unset = UNSET
    display_value: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_type = self.input_type

        type_ = self.type_

        href = self.href

        id = self.id

        display_value = self.display_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if href is not UNSET:
            field_dict["href"] = href
        if id is not UNSET:
            field_dict["id"] = id
        if display_value is not UNSET:
            field_dict["displayValue"] = display_value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        input_type = d.pop("inputType")

        type_ = d.pop("type", UNSET)

        href = d.pop("href", UNSET)

        id = d.pop("id", UNSET)

        display_value = d.pop("displayValue", UNSET)

        sdk_object = cls(
            input_type=input_type,
            type_=type_,
            href=href,
            id=id,
            display_value=display_value,
        )

        sdk_object.additional_properties = d
        return sdk_object

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
