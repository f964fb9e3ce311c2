from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.entity_reference import EntityReference


T = TypeVar("T", bound="Session")


@_attrs_define
class Session:
    """Session

    Example:
        {'site': {'name': 'name', 'id': 'id'}, 'org': {'name': 'name', 'id': 'id'}, 'roles': ['roles', 'roles'],
            'location': 'location', 'sessionIdleTimeoutMinutes': 0, 'id': 'urn:vcloud:session:xxxxxxxx-xxxx-xxxx-xxxx-
            xxxxxxxxxxxx', 'user': {'name': 'name', 'id': 'id'}, 'roleRefs': [{'name': 'name', 'id': 'id'}, {'name': 'name',
            'id': 'id'}]}

    Attributes:
        id (str | Unset): ID of session Example: urn:vcloud:session:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
        site (EntityReference | Unset): Entity reference used to describe VCD entities
             Example: {'name': 'name', 'id': 'id'}.
        user (EntityReference | Unset): Entity reference used to describe VCD entities
             Example: {'name': 'name', 'id': 'id'}.
        org (EntityReference | Unset): Entity reference used to describe VCD entities
             Example: {'name': 'name', 'id': 'id'}.
        location (str | Unset): The accessible location this session is valid for
        roles (list[str] | Unset): User's roles for this session
        role_refs (list[EntityReference] | Unset): References to user's roles
        session_idle_timeout_minutes (int | Unset): The session idle timeout in minutes
    """

    id: str | Unset = UNSET
    site: EntityReference | Unset = UNSET
    user: EntityReference | Unset = UNSET
    org: EntityReference | Unset = UNSET
    location: str | Unset = UNSET
    roles: list[str] | Unset = UNSET
    role_refs: list[EntityReference] | Unset = UNSET
    session_idle_timeout_minutes: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        id = self.id

        site: dict[str, Any] | Unset = UNSET
        if not isinstance(self.site, Unset):
            site = self.site.to_dict()

        user: dict[str, Any] | Unset = UNSET
        if not isinstance(self.user, Unset):
            user = self.user.to_dict()

        org: dict[str, Any] | Unset = UNSET
        if not isinstance(self.org, Unset):
            org = self.org.to_dict()

        location = self.location

        roles: list[str] | Unset = UNSET
        if not isinstance(self.roles, Unset):
            roles = self.roles

        role_refs: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.role_refs, Unset):
            role_refs = []
            for role_refs_item_data in self.role_refs:
                role_refs_item = role_refs_item_data.to_dict()
                role_refs.append(role_refs_item)

        session_idle_timeout_minutes = self.session_idle_timeout_minutes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if site is not UNSET:
            field_dict["site"] = site
        if user is not UNSET:
            field_dict["user"] = user
        if org is not UNSET:
            field_dict["org"] = org
        if location is not UNSET:
            field_dict["location"] = location
        if roles is not UNSET:
            field_dict["roles"] = roles
        if role_refs is not UNSET:
            field_dict["roleRefs"] = role_refs
        if session_idle_timeout_minutes is not UNSET:
            field_dict["sessionIdleTimeoutMinutes"] = session_idle_timeout_minutes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.entity_reference import EntityReference

        d = dict(src_dict)
        id = d.pop("id", UNSET)

        _site = d.pop("site", UNSET)
        site: EntityReference | Unset
        if isinstance(_site, Unset):
            site = UNSET
        else:
            site = EntityReference.from_dict(_site)

        _user = d.pop("user", UNSET)
        user: EntityReference | Unset
        if isinstance(_user, Unset):
            user = UNSET
        else:
            user = EntityReference.from_dict(_user)

        _org = d.pop("org", UNSET)
        org: EntityReference | Unset
        if isinstance(_org, Unset):
            org = UNSET
        else:
            org = EntityReference.from_dict(_org)

        location = d.pop("location", UNSET)

        roles = cast(list[str], d.pop("roles", UNSET))

        _role_refs = d.pop("roleRefs", UNSET)
        role_refs: list[EntityReference] | Unset = UNSET
        if _role_refs is not UNSET:
            role_refs = []
            for role_refs_item_data in _role_refs:
                role_refs_item = EntityReference.from_dict(role_refs_item_data)

                role_refs.append(role_refs_item)

        session_idle_timeout_minutes = d.pop("sessionIdleTimeoutMinutes", UNSET)

        session = cls(
            id=id,
            site=site,
            user=user,
            org=org,
            location=location,
            roles=roles,
            role_refs=role_refs,
            session_idle_timeout_minutes=session_idle_timeout_minutes,
        )

        session.additional_properties = d
        return session

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
