"""Contains all the data models used in inputs/outputs"""

from .accessible_location import AccessibleLocation
from .accessible_locations import AccessibleLocations
from .array_param import ArrayParam
from .association import Association
from .boolean_param import BooleanParam
from .composite_type import CompositeType
from .composite_value import CompositeValue
from .date_param import DateParam
from .encrypted_string import EncryptedString
from .entity_reference import EntityReference
from .error import Error
from .execution_context import ExecutionContext
from .execution_state import ExecutionState
from .execution_summary import ExecutionSummary
from .key_value_pair import KeyValuePair
from .link import Link
from .mime_attachment import MimeAttachment
from .number_param import NumberParam
from .page import Page
from .parameter import Parameter
from .presentation import Presentation
from .presentation_element import PresentationElement
from .presentation_executions_list import PresentationExecutionsList
from .presentation_message_info import PresentationMessageInfo
from .presentation_message_info_severity import PresentationMessageInfoSeverity
from .properties import Properties
from .regex import Regex
from .relations import Relations
from .sdk_object import SdkObject
from .secure_string import SecureString
from .session import Session
from .sessions import Sessions
from .step_info import StepInfo
from .string_param import StringParam
from .token import Token
from .ws_attribute import WsAttribute
from .ws_parameter import WsParameter
from .ws_parameter_scope import WsParameterScope
from .ws_workflow_execution import WsWorkflowExecution

__all__ = (
    "AccessibleLocation",
    "AccessibleLocations",
    "ArrayParam",
    "Association",
    "BooleanParam",
    "CompositeType",
    "CompositeValue",
    "DateParam",
    "EncryptedString",
    "EntityReference",
    "Error",
    "ExecutionContext",
    "ExecutionState",
    "ExecutionSummary",
    "KeyValuePair",
    "Link",
    "MimeAttachment",
    "NumberParam",
    "Page",
    "Parameter",
    "Presentation",
    "PresentationElement",
    "PresentationExecutionsList",
    "PresentationMessageInfo",
    "PresentationMessageInfoSeverity",
    "Properties",
    "Regex",
    "Relations",
    "SdkObject",
    "SecureString",
    "Session",
    "Sessions",
    "StepInfo",
    "StringParam",
    "Token",
    "WsAttribute",
    "WsParameter",
    "WsParameterScope",
    "WsWorkflowExecution",
)
