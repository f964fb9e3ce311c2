from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.entity_reference import EntityReference


T = TypeVar("T", bound="AccessibleLocation")


@_attrs_define
class AccessibleLocation:
    """A location accessible to this session.

    Attributes:
        location_id (str | Unset):
        site (EntityReference | Unset): Entity reference used to describe VCD entities
             Example: {'name': 'name', 'id': 'id'}.
        org (EntityReference | Unset): Entity reference used to describe VCD entities
             Example: {'name': 'name', 'id': 'id'}.
        rest_api_endpoint (str | Unset):
        ui_endpoint (str | Unset):
        api_version (str | Unset):
    """

    location_id: str | Unset = UNSET
    site: EntityReference | Unset = UNSET
    org: EntityReference | Unset = UNSET
    rest_api_endpoint: str | Unset = UNSET
    ui_endpoint: str | Unset = UNSET
    api_version: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        location_id = self.location_id

        site: dict[str, Any] | Unset = UNSET
        if not isinstance(self.site, Unset):
            site = self.site.to_dict()

        org: dict[str, Any] | Unset = UNSET
        if not isinstance(self.org, Unset):
            org = self.org.to_dict()

        rest_api_endpoint = self.rest_api_endpoint

        ui_endpoint = self.ui_endpoint

        api_version = self.api_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if location_id is not UNSET:
            field_dict["locationId"] = location_id
        if site is not UNSET:
            field_dict["site"] = site
        if org is not UNSET:
            field_dict["org"] = org
        if rest_api_endpoint is not UNSET:
            field_dict["restApiEndpoint"] = rest_api_endpoint
        if ui_endpoint is not UNSET:
            field_dict["uiEndpoint"] = ui_endpoint
        if api_version is not UNSET:
            field_dict["apiVersion"] = api_version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.entity_reference import EntityReference

        d = dict(src_dict)
        location_id = d.pop("locationId", UNSET)

        _site = d.pop("site", UNSET)
        site: EntityReference | Unset
        if isinstance(_site, Unset):
            site = UNSET
        else:
            site = EntityReference.from_dict(_site)

        _org = d.pop("org", UNSET)
        org: EntityReference | Unset
        if isinstance(_org, Unset):
            org = UNSET
        else:
            org = EntityReference.from_dict(_org)

        rest_api_endpoint = d.pop("restApiEndpoint", UNSET)

        ui_endpoint = d.pop("uiEndpoint", UNSET)

        api_version = d.pop("apiVersion", UNSET)

        accessible_location = cls(
            location_id=location_id,
            site=site,
            org=org,
            rest_api_endpoint=rest_api_endpoint,
            ui_endpoint=ui_endpoint,
            api_version=api_version,
        )

        accessible_location.additional_properties = d
        return accessible_location

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
