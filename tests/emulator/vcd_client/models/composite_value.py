from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.parameter import Parameter


T = TypeVar("T", bound="CompositeValue")


@_attrs_define
class CompositeValue:
    """
    Attributes:
        input_type (str):
        id (str | Unset):
        property_ (Parameter | Unset): Definition of Parameter.
             Example: {'inputType': 'inputType'}.
    """

    input_type: str
    id: str | Unset = UNSET
    property_: Parameter | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        input_type = self.input_type

        id = self.id

        property_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.property_, Unset):
            property_ = self.property_.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputType": input_type,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if property_ is not UNSET:
            field_dict["property"] = property_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.parameter import Parameter

        d = dict(src_dict)
        input_type = d.pop("inputType")

        id = d.pop("id", UNSET)

        _property_ = d.pop("property", UNSET)
        property_: Parameter | Unset
        if isinstance(_property_, Unset):
            property_ = UNSET
        else:
            property_ = Parameter.from_dict(_property_)

        composite_value = cls(
            input_type=input_type,
            id=id,
            property_=property_,
        )

        composite_value.additional_properties = d
        return composite_value

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
