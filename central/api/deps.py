"""Dependencies the routes declare: a database session and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
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


SessionDep = Annotated[Session, Depends(get_session)]
MarkersDep = Annotated[RunMarkers, Depends(get_markers)]
ActorDep = Annotated[str, Depends(get_actor)]
