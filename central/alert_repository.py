"""Alerts vmalert sends: stored per organization, one row per distinct label set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.auth import Principal
from central.errors import Conflict
from central.models import Alert, Organization
from central.schemas import AlertIn, AlertsReceived, AlertState


def fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()


def _org_id(session: Session, principal: Principal, alert: AlertIn) -> int | None:
    """The org the alert goes to: the token's (an alert naming another org is refused), or,
    for the bootstrap token (the stack's own vmalert), the org its ``org`` label names."""
    named = alert.labels.get("org")
    if not principal.bootstrap:
        return principal.org_id if named in (None, principal.org) else None
    if named is None:
        return None
    return session.scalar(select(Organization.id).where(Organization.name == named))


def receive(
    session: Session, principal: Principal, alerts: Sequence[AlertIn], now: datetime
) -> AlertsReceived:
    stored = refused = 0
    for alert in alerts:
        org_id = _org_id(session, principal, alert)
        if org_id is None:
            refused += 1
            continue
        fp = fingerprint(alert.labels)
        row = session.scalar(select(Alert).where(Alert.org_id == org_id, Alert.fingerprint == fp))
        if row is None:
            row = Alert(org_id=org_id, fingerprint=fp, labels=alert.labels)
            session.add(row)
        row.name = alert.labels.get("alertname", "unnamed")[:200]
        row.annotations = alert.annotations
        row.starts_at = alert.startsAt or row.starts_at or now
        row.ends_at = alert.endsAt
        row.generator_url = alert.generatorURL
        row.state = (AlertState.resolved if alert.endsAt is not None and alert.endsAt <= now
                     else AlertState.firing).value  # fmt: skip
        row.received_at = now
        stored += 1
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("the same alert arrived twice at once; vmalert sends it again") from None
    return AlertsReceived(received=len(alerts), stored=stored, refused=refused)


def list_alerts(session: Session, org_id: int, now: datetime, state: AlertState | None) -> Sequence[Alert]:
    """The org's alerts, newest first; one vmalert stopped refreshing (its endsAt passed) is resolved."""
    query = select(Alert).where(Alert.org_id == org_id)
    firing = Alert.state == AlertState.firing.value
    still = or_(Alert.ends_at.is_(None), Alert.ends_at > now)
    if state == AlertState.firing:
        query = query.where(firing, still)
    elif state == AlertState.resolved:
        query = query.where(~(firing & still))
    rows = session.scalars(query.order_by(Alert.starts_at.desc(), Alert.id.desc())).all()
    for row in rows:  # what the caller sees, not what is stored
        if row.state == AlertState.firing.value and row.ends_at is not None and row.ends_at <= now:
            row.state = AlertState.resolved.value
    session.expunge_all()
    return rows
