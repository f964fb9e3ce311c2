from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.presentation_message_info_severity import PresentationMessageInfoSeverity
from ..types import UNSET, Unset

T = TypeVar("T", bound="PresentationMessageInfo")


@_attrs_define
class PresentationMessageInfo:
    """Definition of PresentationMessageInfo.

    Example:
        {'severity': 'INFO', 'summary': 'summary', 'code': 'code', 'details': 'details'}

    Attributes:
        code (str | Unset):
        details (str | Unset):
        severity (PresentationMessageInfoSeverity | Unset):
        summary (str | Unset):
    """

    code: str | Unset = UNSET
    details: str | Unset = UNSET
    severity: PresentationMessageInfoSeverity | Unset = UNSET
    summary: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        details = self.details

        severity: str | Unset = UNSET
        if not isinstance(self.severity, Unset):
            severity = self.severity.value

        summary = self.summary

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if code is not UNSET:
            field_dict["code"] = code
        if details is not UNSET:
            field_dict["details"] = details
        if severity is not UNSET:
            field_dict["severity"] = severity
        if summary is not UNSET:
            field_dict["summary"] = summary

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        code = d.pop("code", UNSET)

        details = d.pop("details", UNSET)

        _severity = d.pop("severity", UNSET)
        severity: PresentationMessageInfoSeverity | Unset
        if isinstance(_severity, Unset):
            severity = UNSET
        else:
            severity = PresentationMessageInfoSeverity(_severity)

        summary = d.pop("summary", UNSET)

        presentation_message_info = cls(
            code=code,
            details=details,
            severity=severity,
            summary=summary,
        )

        presentation_message_info.additional_properties = d
        return presentation_message_info

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
