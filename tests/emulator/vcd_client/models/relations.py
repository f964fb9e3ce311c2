from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.link import Link


T = TypeVar("T", bound="Relations")


@_attrs_define
class Relations:
    """Definition of Relations.

    Example:
        {'total': 0, 'link': [{'rel': 'rel', 'name': 'name', 'attributes': [{'displayValue': 'displayValue', 'name':
            'name', 'value': 'value'}, {'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}], 'href': 'href',
            'type': 'type'}, {'rel': 'rel', 'name': 'name', 'attributes': [{'displayValue': 'displayValue', 'name': 'name',
            'value': 'value'}, {'displayValue': 'displayValue', 'name': 'name', 'value': 'value'}], 'href': 'href', 'type':
            'type'}], 'start': 6}

    Attributes:
        total (int | Unset):
        link (list[Link] | Unset):
        start (int | Unset):
    """

    total: int | Unset = UNSET
    link: list[Link] | Unset = UNSET
    start: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        total = self.total

        link: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.link, Unset):
            link = []
            for link_item_data in self.link:
                link_item = link_item_data.to_dict()
                link.append(link_item)

        start = self.start

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if total is not UNSET:
            field_dict["total"] = total
        if link is not UNSET:
            field_dict["link"] = link
        if start is not UNSET:
            field_dict["start"] = start

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.link import Link

        d = dict(src_dict)
        total = d.pop("total", UNSET)

        _link = d.pop("link", UNSET)
        link: list[Link] | Unset = UNSET
        if _link is not UNSET:
            link = []
            for link_item_data in _link:
                link_item = Link.from_dict(link_item_data)

                link.append(link_item)

        start = d.pop("start", UNSET)

        relations = cls(
            total=total,
            link=link,
            start=start,
        )

        relations.additional_properties = d
        return relations

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
