from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SecureString")


@_attrs_define
class SecureString:
    """
    Attributes:
        input_type (str):
        value (str | Unset):
        is_plain_text (bool | Unset):
    """

    input_type: str
    value: str | Unset = UNSET
    is_plain_text: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_type = self.input_type

        value = self.value

        is_plain_text = self.is_plain_text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value
        if is_plain_text is not UNSET:
            field_dict["isPlainText"] = is_plain_text

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        input_type = d.pop("inputType")

        value = d.pop("value", UNSET)

        is_plain_text = d.pop("isPlainText", UNSET)

        secure_string = cls(
            input_type=input_type,
            value=value,
            is_plain_text=is_plain_text,
        )

        secure_string.additional_properties = d
        return secure_string

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
