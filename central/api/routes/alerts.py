"""Regression alerts: vmalert's notifier posts here (Alertmanager API v2 format); users list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from central import alert_repository as alerts
from central.api.deps import AnyTokenDep, ClockDep, ReaderDep, SessionDep
from central.errors import Forbidden
from central.schemas import AlertIn, AlertPublic, AlertsPublic, AlertsReceived, AlertState, Role

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.post("/alertmanager/api/v2/alerts")
def receive_alerts(
    body: Annotated[list[AlertIn], Body(max_length=10_000)],
    session: SessionDep,
    who: AnyTokenDep,
    now: ClockDep,
) -> AlertsReceived:
    """Alertmanager's receiving endpoint: vmalert's ``-notifier.url`` is ``<central>/api/v1/alertmanager``.

    A writer token's alerts go to its org; the bootstrap token's to the org each alert's
    ``org`` label names. Sending the same alert again updates it (it is keyed by its labels).
    """
    if not who.bootstrap and not who.may(Role.writer):
        raise Forbidden(f"alerts need a writer token of the org; yours is a {who.role.value} token")
    return alerts.receive(session, who, body, now())


@router.get("/alerts")
def list_alerts(
    session: SessionDep, who: ReaderDep, now: ClockDep, state: AlertState | None = None
) -> AlertsPublic:
    assert who.org_id is not None
    rows = [AlertPublic.model_validate(a) for a in alerts.list_alerts(session, who.org_id, now(), state)]
    return AlertsPublic(data=rows, count=len(rows))
