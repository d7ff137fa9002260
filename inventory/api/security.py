"""Bearer-token authentication middleware and role guards.

The role a route needs is checked here, once, by the guard on its controller or handler; services do not
check it again. Services keep only the rules that depend on the rows involved: staff void only their own scans
(`scanning.void_usage`), client contacts are shown to managers only (`clinical`), and a user change re-checks the
acting admin under the lock it takes (`auth.update_user`). `tests/unit/test_role_checks.py` pins the split.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.spec import Components, SecurityScheme

from inventory.config import Settings
from inventory.domain.errors import Forbidden, Unauthorized
from inventory.domain.models import Actor
from inventory.services import auth

# A handler's opt: its service checks an UncheckedActor's token itself (auth.check or its own statement), so the
# middleware checks only the signature, expiry and sign-in age. Only on staff routes: the role is the signed one.
CHECKED_BY_SERVICE = "token_checked_by_service"


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves `Authorization: Bearer <token>` to an Actor on every /api route but the token route."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        """Return the actor for the bearer token; raises Unauthorized."""
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("A bearer token is required (POST /api/auth/token).", code="unauthorized")
        settings: Settings = connection.app.state.settings
        if connection.route_handler.opt.get(CHECKED_BY_SERVICE) and "idempotency-key" not in connection.headers:
            # The service checks the user and the revocation in its own transaction's first statement, which saves
            # the scan a round trip. An Idempotency-Key request is checked here: its replay never reaches the service.
            unchecked = auth.authenticate_signed(settings=settings, token=token.strip())
            return AuthenticationResult(user=unchecked, auth=token.strip())
        actor = await auth.authenticate(settings=settings, token=token.strip())
        return AuthenticationResult(user=actor, auth=token.strip())


def auth_middleware() -> DefineMiddleware:
    """The middleware, applied to /api except the token route."""
    return DefineMiddleware(
        BearerAuthMiddleware,
        exclude=["^/$", "^/health$", "^/ready$", "^/api/auth/token$", "^/docs(/|$)", "^/schema", "^/ui(/|$)"],
    )


def requires(role: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard that lets through `role` and the roles above it."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.scope.get("user")
        if not isinstance(actor, Actor):
            raise Unauthorized("A bearer token is required.", code="unauthorized")
        if not actor.has_role(role):
            raise Forbidden(f"This needs the {role} role.", code="forbidden", required_role=role)

    guard.__name__ = f"requires_{role}"
    return guard


staff = requires("staff")
manager = requires("manager")
admin = requires("admin")


def openapi_components() -> Components:
    """The bearer security scheme for the OpenAPI document."""
    return Components(
        security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
    )
