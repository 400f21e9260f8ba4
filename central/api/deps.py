"""Dependencies the routes declare: a database session and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from central import auth
from central.auth import Principal
from central.errors import Forbidden
from central.markers import RunMarkers
from central.schemas import Role


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


_bearer = HTTPBearer(auto_error=False, description="an org token, or the bootstrap admin token")


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Who is asking (401 without a valid token); cached for the request."""
    secret = request.app.state.settings.admin_token
    token = auth.bearer(request.headers.get("authorization"))
    return auth.resolve(session, token, secret.get_secret_value() if secret else None)


def _member(role: Role) -> Any:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.bootstrap:
            raise Forbidden(
                "the bootstrap admin token manages organizations and tokens only: "
                "create an org token ('bhubctl admin tokens create --org ORG') and use that"
            )
        if not principal.may(role):
            have = principal.role.value
            raise Forbidden(f"this needs a {role.value} token of the org; yours is a {have} token")
        return principal

    return Depends(check)


def get_bootstrap(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.bootstrap:
        raise Forbidden("this needs the bootstrap admin token (BENCHHUB_CENTRAL_ADMIN_TOKEN)")
    return principal


def get_actor(principal: Annotated[Principal, Depends(get_principal)]) -> str:
    return principal.actor


def get_markers(request: Request) -> RunMarkers:
    markers: RunMarkers = request.app.state.markers
    return markers


def get_remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


SessionDep = Annotated[Session, Depends(get_session)]
RemoteDep = Annotated[str | None, Depends(get_remote)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
MarkersDep = Annotated[RunMarkers, Depends(get_markers)]
ActorDep = Annotated[str, Depends(get_actor)]
AnyTokenDep = Annotated[Principal, Depends(get_principal)]
ReaderDep = Annotated[Principal, _member(Role.reader)]
WriterDep = Annotated[Principal, _member(Role.writer)]
OrgAdminDep = Annotated[Principal, _member(Role.admin)]
BootstrapDep = Annotated[Principal, Depends(get_bootstrap)]
