"""A client library for accessing VMware Cloud Director OpenAPI"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
