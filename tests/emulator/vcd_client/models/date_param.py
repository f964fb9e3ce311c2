from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DateParam")


@_attrs_define
class DateParam:
    """
    Attributes:
        input_type (str):
        value (datetime.datetime | Unset):
    """

    input_type: str
    value: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_type = self.input_type

        value: str | Unset = UNSET
        if not isinstance(self.value, Unset):
            value = self.value.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        input_type = d.pop("inputType")

        _value = d.pop("value", UNSET)
        value: datetime.datetime | Unset
        if isinstance(_value, Unset):
            value = UNSET
        else:
            value = datetime.datetime.fromisoformat(_value)

        date_param = cls(
            input_type=input_type,
            value=value,
        )

        date_param.additional_properties = d
        return date_param

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
