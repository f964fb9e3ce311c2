from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.entity_reference import EntityReference


T = TypeVar("T", bound="Token")


@_attrs_define
class Token:
    """Specifies a user, the user's organization, and the user assigned token that can be used to
    access proxies as well as the expiration timestamp of the token (in UTC). Parameters cannot
    be edited once a token is created.

       Example:
           {'expirationTimeUtc': datetime.datetime(2000, 1, 23, 4, 56, 7, tzinfo=datetime.timezone(datetime.timedelta(0),
               '+00:00')), 'owner': {'name': 'name', 'id': 'id'}, 'orgName': 'orgName', 'org': {'name': 'name', 'id': 'id'},
               'name': 'name', 'id': 'id', 'type': 'type', 'userId': 'userId', 'token': 'token', 'username': 'username'}

       Attributes:
           id (str): ID of this token. Sorting on this field is not supported.
           name (str): Name of the token
           token (str | Unset): User specific token that can be used to access proxies. Sorting on this field is not
               supported.
           expiration_time_utc (datetime.datetime | Unset): Time stamp representing when the token will expire (in UTC).
           owner (EntityReference | Unset): Entity reference used to describe VCD entities
                Example: {'name': 'name', 'id': 'id'}.
           username (str | Unset): Name of the user that this token is assigned to.
           user_id (str | Unset): ID of the user that this token is assigned to. Sorting on this field is not supported.
                Can not be updated.
           org_name (str | Unset): Name of the organization that the assigned user belongs to. Sorting and filtering on
               this field is not supported.
           org (EntityReference | Unset): Entity reference used to describe VCD entities
                Example: {'name': 'name', 'id': 'id'}.
           type_ (str | Unset): Type of the token. Can be of type PROXY or EXTENSION
    """

    id: str
    name: str
    token: str | Unset = UNSET
    expiration_time_utc: datetime.datetime | Unset = UNSET
    owner: EntityReference | Unset = UNSET
    username: str | Unset = UNSET
    user_id: str | Unset = UNSET
    org_name: str | Unset = UNSET
    org: EntityReference | Unset = UNSET
    type_: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        id = self.id

        name = self.name

        token = self.token

        expiration_time_utc: str | Unset = UNSET
        if not isinstance(self.expiration_time_utc, Unset):
            expiration_time_utc = self.expiration_time_utc.isoformat()

        owner: dict[str, Any] | Unset = UNSET
        if not isinstance(self.owner, Unset):
            owner = self.owner.to_dict()

        username = self.username

        user_id = self.user_id

        org_name = self.org_name

        org: dict[str, Any] | Unset = UNSET
        if not isinstance(self.org, Unset):
            org = self.org.to_dict()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
            }
        )
        if token is not UNSET:
            field_dict["token"] = token
        if expiration_time_utc is not UNSET:
            field_dict["expirationTimeUtc"] = expiration_time_utc
        if owner is not UNSET:
            field_dict["owner"] = owner
        if username is not UNSET:
            field_dict["username"] = username
        if user_id is not UNSET:
            field_dict["userId"] = user_id
        if org_name is not UNSET:
            field_dict["orgName"] = org_name
        if org is not UNSET:
            field_dict["org"] = org
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.entity_reference import EntityReference

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        token = d.pop("token", UNSET)

        _expiration_time_utc = d.pop("expirationTimeUtc", UNSET)
        expiration_time_utc: datetime.datetime | Unset
        if isinstance(_expiration_time_utc, Unset):
            expiration_time_utc = UNSET
        else:
            expiration_time_utc = datetime.datetime.fromisoformat(_expiration_time_utc)

        _owner = d.pop("owner", UNSET)
        owner: EntityReference | Unset
        if isinstance(_owner, Unset):
            owner = UNSET
        else:
            owner = EntityReference.from_dict(_owner)

        username = d.pop("username", UNSET)

        user_id = d.pop("userId", UNSET)

        org_name = d.pop("orgName", UNSET)

        _org = d.pop("org", UNSET)
        org: EntityReference | Unset
        if isinstance(_org, Unset):
            org = UNSET
        else:
            org = EntityReference.from_dict(_org)

        type_ = d.pop("type", UNSET)

        token = cls(
            id=id,
            name=name,
            token=token,
            expiration_time_utc=expiration_time_utc,
            owner=owner,
            username=username,
            user_id=user_id,
            org_name=org_name,
            org=org,
            type_=type_,
        )

        token.additional_properties = d
        return token

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
