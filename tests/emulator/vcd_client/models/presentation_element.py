from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.presentation_message_info import PresentationMessageInfo


T = TypeVar("T", bound="PresentationElement")


@_attrs_define
class PresentationElement:
    """Definition of PresentationElement.

    Example:
        {'hidden': True, 'displayName': 'displayName', 'description': 'description', 'messages': [{'severity': 'INFO',
            'summary': 'summary', 'code': 'code', 'details': 'details'}, {'severity': 'INFO', 'summary': 'summary', 'code':
            'code', 'details': 'details'}], 'id': 'id', 'elementType': 'elementType'}

    Attributes:
        element_type (str):
        description (str | Unset):
        display_name (str | Unset):
        hidden (bool | Unset):
        id (str | Unset):
        messages (list[PresentationMessageInfo] | Unset):
    """

    element_type: str
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    hidden: bool | Unset = UNSET
    id: str | Unset = UNSET
    messages: list[PresentationMessageInfo] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        element_type = self.element_type

        description = self.description

        display_name = self.display_name

        hidden = self.hidden

        id = self.id

        messages: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.messages, Unset):
            messages = []
            for messages_item_data in self.messages:
                messages_item = messages_item_data.to_dict()
                messages.append(messages_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "elementType": element_type,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if display_name is not UNSET:
            field_dict["displayName"] = display_name
        if hidden is not UNSET:
            field_dict["hidden"] = hidden
        if id is not UNSET:
            field_dict["id"] = id
        if messages is not UNSET:
            field_dict["messages"] = messages

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.presentation_message_info import PresentationMessageInfo

        d = dict(src_dict)
        element_type = d.pop("elementType")

        description = d.pop("description", UNSET)

        display_name = d.pop("displayName", UNSET)

        hidden = d.pop("hidden", UNSET)

        id = d.pop("id", UNSET)

        _messages = d.pop("messages", UNSET)
        messages: list[PresentationMessageInfo] | Unset = UNSET
        if _messages is not UNSET:
            messages = []
            for messages_item_data in _messages:
                messages_item = PresentationMessageInfo.from_dict(messages_item_data)

                messages.append(messages_item)

        presentation_element = cls(
            element_type=element_type,
            description=description,
            display_name=display_name,
            hidden=hidden,
            id=id,
            messages=messages,
        )

        presentation_element.additional_properties = d
        return presentation_element

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
