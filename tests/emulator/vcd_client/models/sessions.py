from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.association import Association
    from ..models.session import Session


T = TypeVar("T", bound="Sessions")


@_attrs_define
class Sessions:
    """A list of sessions.

    Attributes:
        result_total (int | Unset): How many results there are in total (i.e., considering all pages).
        page_count (int | Unset): How many pages there are in total.
        page (int | Unset): The page that was fetched, 1-indexed.
        page_size (int | Unset): Result count for page that was fetched.
        associations (list[Association] | Unset): Association info for each result.
        values (list[Session] | Unset): The current page of sessions.
    """

    result_total: int | Unset = UNSET
    page_count: int | Unset = UNSET
    page: int | Unset = UNSET
    page_size: int | Unset = UNSET
    associations: list[Association] | Unset = UNSET
    values: list[Session] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        result_total = self.result_total

        page_count = self.page_count

        page = self.page

        page_size = self.page_size

        associations: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.associations, Unset):
            associations = []
            for associations_item_data in self.associations:
                associations_item = associations_item_data.to_dict()
                associations.append(associations_item)

        values: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.values, Unset):
            values = []
            for values_item_data in self.values:
                values_item = values_item_data.to_dict()
                values.append(values_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if result_total is not UNSET:
            field_dict["resultTotal"] = result_total
        if page_count is not UNSET:
            field_dict["pageCount"] = page_count
        if page is not UNSET:
            field_dict["page"] = page
        if page_size is not UNSET:
            field_dict["pageSize"] = page_size
        if associations is not UNSET:
            field_dict["associations"] = associations
        if values is not UNSET:
            field_dict["values"] = values

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.association import Association
        from ..models.session import Session

        d = dict(src_dict)
        result_total = d.pop("resultTotal", UNSET)

        page_count = d.pop("pageCount", UNSET)

        page = d.pop("page", UNSET)

        page_size = d.pop("pageSize", UNSET)

        _associations = d.pop("associations", UNSET)
        associations: list[Association] | Unset = UNSET
        if _associations is not UNSET:
            associations = []
            for associations_item_data in _associations:
                associations_item = Association.from_dict(associations_item_data)

                associations.append(associations_item)

        _values = d.pop("values", UNSET)
        values: list[Session] | Unset = UNSET
        if _values is not UNSET:
            values = []
            for values_item_data in _values:
                values_item = Session.from_dict(values_item_data)

                values.append(values_item)

        sessions = cls(
            result_total=result_total,
            page_count=page_count,
            page=page,
            page_size=page_size,
            associations=associations,
            values=values,
        )

        sessions.additional_properties = d
        return sessions

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
