from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="MimeAttachment")


@_attrs_define
class MimeAttachment:
    """
    Attributes:
        input_type (str):
        content (File | Unset):
        name (str | Unset):
        mime_type (str | Unset):
    """

    input_type: str
    content: File | Unset = UNSET
    name: str | Unset = UNSET
    mime_type: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_type = self.input_type

        content: FileTypes | Unset = UNSET
        if not isinstance(self.content, Unset):
            content = self.content.to_tuple()

        name = self.name

        mime_type = self.mime_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if content is not UNSET:
            field_dict["content"] = content
        if name is not UNSET:
            field_dict["name"] = name
        if mime_type is not UNSET:
            field_dict["mimeType"] = mime_type

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        input_type = d.pop("inputType")

        _content = d.pop("content", UNSET)
        content: File | Unset
        if isinstance(_content, Unset):
            content = UNSET
        else:
            content = File(payload=BytesIO(_content))

        name = d.pop("name", UNSET)

        mime_type = d.pop("mimeType", UNSET)

        mime_attachment = cls(
            input_type=input_type,
            content=content,
            name=name,
            mime_type=mime_type,
        )

        mime_attachment.additional_properties = d
        return mime_attachment

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
