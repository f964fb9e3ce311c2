from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ws_attribute import WsAttribute


T = TypeVar("T", bound="Link")


@_attrs_define
class Link:
    """Definition of Link.

    Example:
        {'rel': 'rel', 'name': 'name', 'attributes': [{'displayValue': 'displayValue', 'name': 'name', 'value':
            'value'}, {'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}], 'href': 'href', 'type': 'type'}

    Attributes:
        attributes (list[WsAttribute] | Unset):
        href (str | Unset):
        rel (str | Unset):
        type_ (str | Unset):
        name (str | Unset):
    """

    attributes: list[WsAttribute] | Unset = UNSET
    href: str | Unset = UNSET
    rel: str | Unset = UNSET
    type_: str | Unset = UNSET
    name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        attributes: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.attributes, Unset):
            attributes = []
            for attributes_item_data in self.attributes:
                attributes_item = attributes_item_data.to_dict()
                attributes.append(attributes_item)

        href = self.href

        rel = self.rel

        type_ = self.type_

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if attributes is not UNSET:
            field_dict["attributes"] = attributes
        if href is not UNSET:
            field_dict["href"] = href
        if rel is not UNSET:
            field_dict["rel"] = rel
        if type_ is not UNSET:
            field_dict["type"] = type_
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ws_attribute import WsAttribute

        d = dict(src_dict)
        _attributes = d.pop("attributes", UNSET)
        attributes: list[WsAttribute] | Unset = UNSET
        if _attributes is not UNSET:
            attributes = []
            for attributes_item_data in _attributes:
                attributes_item = WsAttribute.from_dict(attributes_item_data)

                attributes.append(attributes_item)

        href = d.pop("href", UNSET)

        rel = d.pop("rel", UNSET)

        type_ = d.pop("type", UNSET)

        name = d.pop("name", UNSET)

        link = cls(
            attributes=attributes,
            href=href,
            rel=rel,
            type_=type_,
            name=name,
        )

        link.additional_properties = d
        return link

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
