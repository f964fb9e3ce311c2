"""``create_app``: the emulator as one Starlette app, in-process for tests or under uvicorn.

Every knob is in `EmulatorOptions`, so a test builds exactly the server it needs (fake clock, forced
value format, 404 instead of 403, injected faults) and two apps in one process share nothing.

The HTTP edge (`intake.HttpEdge`: body size limit, trailing slashes, a CloudAPI 500 for the
unexpected) wraps the routes, inside the injected faults. A path served for other methods answers 405 with an
``Allow`` header naming them (RFC 9110 15.5.6); an unknown path answers 404; neither redirects.
"""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator import admin_api, session_api, workflow_api
from reconciler.emulator.answers import CloudApiError, cloudapi_error_handler, error_response
from reconciler.emulator.catalog import Catalog
from reconciler.emulator.clock import Clock
from reconciler.emulator.context import Emulator
from reconciler.emulator.faults import FaultMiddleware, FaultPolicy
from reconciler.emulator.intake import HttpEdge
from reconciler.emulator.options import EmulatorOptions


def create_app(
    catalog: Catalog, options: EmulatorOptions = EmulatorOptions(), *, clock: Clock | None = None
) -> Starlette:
    """The emulator app serving ``catalog`` as ``options`` say, on ``clock`` (default: the real time).

    ``emulator_of(app)`` gives the live state: ``.clock``, ``.starts``, ``.executions``, and
    ``.faults.enqueue(kind, method=..., path_contains=...)`` to inject one fault on purpose.
    """
    policy = FaultPolicy(
        rate=options.fault_rate,
        kinds=options.fault_kinds,
        latency=options.latency,
        seed=options.seed,
        include_login=options.fault_login,
        retry_after=options.retry_after,
    )
    emulator = Emulator(catalog=catalog, clock=clock or time.time, options=options, faults=policy)
    app = Starlette(
        routes=[*session_api.ROUTES, *workflow_api.ROUTES, *admin_api.ROUTES],
        middleware=[  # faults outermost: they need uvicorn's own ``receive`` to drop a connection
            Middleware(FaultMiddleware, policy=policy),
            Middleware(HttpEdge, max_body_bytes=options.max_body_bytes),
        ],
        exception_handlers={CloudApiError: cloudapi_error_handler, 404: _not_found, 405: _not_allowed},
    )
    app.router.redirect_slashes = False  # HttpEdge already answers ``/x/`` as ``/x``
    app.state.emulator = emulator
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, CloudApiError(404, "RESOURCE_NOT_FOUND", f"No such resource: {request.url.path}"))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    path = request.scope["path"]
    allowed = sorted(
        {
            method
            for route in request.app.routes
            if isinstance(route, Route) and route.methods and route.path_regex.match(path)
            for method in route.methods
        }
    )
    message = f"Method {request.method} is not supported on {request.url.path}; allowed: {', '.join(allowed)}"
    error = CloudApiError(405, "METHOD_NOT_ALLOWED", message, {"Allow": ", ".join(allowed)})
    return error_response(request, error)
