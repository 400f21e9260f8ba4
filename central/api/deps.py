"""Dependencies the routes declare: a database session and who is asking."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from central import auth
from central.auth import Principal
from central.errors import Forbidden
from central.markers import RunMarkers
from central.schemas import Role


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, closed on the event loop once the response is ready.

    Closed here rather than in a worker thread: a request whose route is done still holds its
    connection until the close, and a close queued behind workers that all wait for a
    connection would never run (the pool and the thread pool deadlock under load). Closing
    returns the connection with a rollback: a short local round trip.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


_bearer = HTTPBearer(auto_error=False, description="an org token, or the bootstrap admin token")


async def get_principal(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Who is asking (401 without a valid token).

    Known tokens come from a short-lived cache (auth.TokenCache); a lookup uses its own
    session, never the route's: a connection held by a request across its hops between
    worker threads would let the pool run dry while every worker waits for one (a deadlock).
    """
    secret = request.app.state.settings.admin_token
    token = auth.bearer(request.headers.get("authorization"))
    if secret is not None and auth.is_bootstrap(token, secret.get_secret_value()):
        return auth.BOOTSTRAP
    cache: auth.TokenCache = request.app.state.tokens
    digest = auth.hash_token(token)
    if (known := cache.get(digest)) is not None:
        return known
    principal = await run_in_threadpool(auth.lookup, request.app.state.sessions, digest)
    if principal.run_id is None:  # a job token is looked up each time: it dies with its attempt
        cache.put(digest, principal)
    return principal


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _member(role: Role) -> Any:
    async def check(principal: Annotated[Principal, Depends(get_principal)], request: Request) -> Principal:
        if principal.run_id is not None and request.path_params.get("run_id") != principal.run_id:
            raise Forbidden("a job token acts on its own run only (the attempt it was given for)")
        if principal.bootstrap:
            raise Forbidden(
                "the bootstrap admin token manages organizations and tokens only: "
                "create an org token ('bhubctl admin tokens create --org ORG') and use that"
            )
        if not principal.may(role):
            have = principal.role.value
            raise Forbidden(f"this needs {_a(role.value)} token of the org; yours is {_a(have)} token")
        return principal

    return Depends(check)


async def get_bootstrap(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.bootstrap:
        raise Forbidden("this needs the bootstrap admin token (BENCHHUB_CENTRAL_ADMIN_TOKEN)")
    return principal


async def get_actor(principal: Annotated[Principal, Depends(get_principal)]) -> str:
    return principal.actor


async def get_markers(request: Request) -> RunMarkers:
    markers: RunMarkers = request.app.state.markers
    return markers


async def get_remote(request: Request) -> str | None:
    return request.client.host if request.client else None


async def get_clock(request: Request) -> Callable[[], datetime]:
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
AgentDep = Annotated[Principal, _member(Role.agent)]
BootstrapDep = Annotated[Principal, Depends(get_bootstrap)]
