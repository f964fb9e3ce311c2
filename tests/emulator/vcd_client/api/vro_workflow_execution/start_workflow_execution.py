from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.execution_context import ExecutionContext
from ...models.ws_workflow_execution import WsWorkflowExecution
from ...types import Response


def _get_kwargs(
    workflow_id: str,
    *,
    body: ExecutionContext,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/workflows/{workflow_id}/executions".format(
            workflow_id=quote(str(workflow_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | WsWorkflowExecution | None:
    if response.status_code == 201:
        response_201 = WsWorkflowExecution.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = cast(Any, None)
        return response_400

    if response.status_code == 401:
        response_401 = cast(Any, None)
        return response_401

    if response.status_code == 403:
        response_403 = cast(Any, None)
        return response_403

    if response.status_code == 404:
        response_404 = cast(Any, None)
        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | WsWorkflowExecution]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ExecutionContext,
) -> Response[Any | WsWorkflowExecution]:
    """Start workflow execution

     Instantiates a workflow run, by using the passed parameters. The workflow run is asynchronous, so
    the call returns a pointer to a task that can be used to track the workflow run.

    Args:
        workflow_id (str):
        body (ExecutionContext): Definition of ExecutionContext.
             Example: {'parameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name',
            'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType':
            'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | WsWorkflowExecution]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ExecutionContext,
) -> Any | WsWorkflowExecution | None:
    """Start workflow execution

     Instantiates a workflow run, by using the passed parameters. The workflow run is asynchronous, so
    the call returns a pointer to a task that can be used to track the workflow run.

    Args:
        workflow_id (str):
        body (ExecutionContext): Definition of ExecutionContext.
             Example: {'parameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name',
            'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType':
            'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | WsWorkflowExecution
    """

    return sync_detailed(
        workflow_id=workflow_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ExecutionContext,
) -> Response[Any | WsWorkflowExecution]:
    """Start workflow execution

     Instantiates a workflow run, by using the passed parameters. The workflow run is asynchronous, so
    the call returns a pointer to a task that can be used to track the workflow run.

    Args:
        workflow_id (str):
        body (ExecutionContext): Definition of ExecutionContext.
             Example: {'parameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name',
            'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType':
            'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | WsWorkflowExecution]
    """

    kwargs = _get_kwargs(
        workflow_id=workflow_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    workflow_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ExecutionContext,
) -> Any | WsWorkflowExecution | None:
    """Start workflow execution

     Instantiates a workflow run, by using the passed parameters. The workflow run is asynchronous, so
    the call returns a pointer to a task that can be used to track the workflow run.

    Args:
        workflow_id (str):
        body (ExecutionContext): Definition of ExecutionContext.
             Example: {'parameters': [{'encryptValue': True, 'scope': 'local', 'name': 'name',
            'description': 'description', 'type': 'type', 'updated': True, 'value': {'inputType':
            'inputType'}}, {'encryptValue': True, 'scope': 'local', 'name': 'name', 'description':
            'description', 'type': 'type', 'updated': True, 'value': {'inputType': 'inputType'}}]}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | WsWorkflowExecution
    """

    return (
        await asyncio_detailed(
            workflow_id=workflow_id,
            client=client,
            body=body,
        )
    ).parsed
