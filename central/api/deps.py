"""Dependencies the routes declare: a database session and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from central.markers import RunMarkers


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_actor(request: Request) -> str:
    client = request.client.host if request.client else "unknown"
    return f"api:{client}"


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
