from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.presentation_element import PresentationElement
    from ..models.presentation_message_info import PresentationMessageInfo


T = TypeVar("T", bound="StepInfo")


@_attrs_define
class StepInfo:
    """
    Attributes:
        element_type (str):
        description (str | Unset):
        display_name (str | Unset):
        hidden (bool | Unset):
        id (str | Unset):
        messages (list[PresentationMessageInfo] | Unset):
        read_only (bool | Unset):
        elements (list[PresentationElement] | Unset):
    """

    element_type: str
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    hidden: bool | Unset = UNSET
    id: str | Unset = UNSET
    messages: list[PresentationMessageInfo] | Unset = UNSET
    read_only: bool | Unset = UNSET
    elements: list[PresentationElement] | Unset = UNSET
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

        read_only = self.read_only

        elements: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.elements, Unset):
            elements = []
            for elements_item_data in self.elements:
                elements_item = elements_item_data.to_dict()
                elements.append(elements_item)

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
        if read_only is not UNSET:
            field_dict["readOnly"] = read_only
        if elements is not UNSET:
            field_dict["elements"] = elements

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.presentation_element import PresentationElement
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

        read_only = d.pop("readOnly", UNSET)

        _elements = d.pop("elements", UNSET)
        elements: list[PresentationElement] | Unset = UNSET
        if _elements is not UNSET:
            elements = []
            for elements_item_data in _elements:
                elements_item = PresentationElement.from_dict(elements_item_data)

                elements.append(elements_item)

        step_info = cls(
            element_type=element_type,
            description=description,
            display_name=display_name,
            hidden=hidden,
            id=id,
            messages=messages,
            read_only=read_only,
            elements=elements,
        )

        step_info.additional_properties = d
        return step_info

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
