from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """Error type format displayed to users for exceptions emerging from openapi endpoints.

    Example:
        {'stackTrace': 'stackTrace', 'message': 'message', 'minorErrorCode': 'minorErrorCode'}

    Attributes:
        minor_error_code (str):
        message (str):
        stack_trace (str | Unset):
    """

    minor_error_code: str
    message: str
    stack_trace: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        minor_error_code = self.minor_error_code

        message = self.message

        stack_trace = self.stack_trace

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "minorErrorCode": minor_error_code,
                "message": message,
            }
        )
        if stack_trace is not UNSET:
            field_dict["stackTrace"] = stack_trace

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        minor_error_code = d.pop("minorErrorCode")

        message = d.pop("message")

        stack_trace = d.pop("stackTrace", UNSET)

        error = cls(
            minor_error_code=minor_error_code,
            message=message,
            stack_trace=stack_trace,
        )

        error.additional_properties = d
        return error

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
