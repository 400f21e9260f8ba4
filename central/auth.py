"""API tokens: minted once, stored as SHA-256, resolved per request to who is asking.

A token belongs to one organization and has one role (reader < writer < admin). The
bootstrap token from BENCHHUB_CENTRAL_ADMIN_TOKEN belongs to no organization: it creates
organizations and their first tokens, and reads service discovery across all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.errors import Conflict, NotFound, Unauthorized
from central.models import ApiToken, Job, Organization, User, utcnow
from central.schemas import Role

TOKEN_PREFIX = "bhub_"
BOOTSTRAP_ACTOR = "admin-token"
_HOW = "send 'Authorization: Bearer <token>'; an org admin creates one with 'bhubctl admin tokens create'"


RANK = {Role.reader: 0, Role.writer: 1, Role.admin: 2}


@dataclass(frozen=True)
class Principal:
    """Who is asking: an org token (org_id set) or the bootstrap token (org_id None)."""

    org_id: int | None
    org: str | None
    role: Role
    actor: str
    run_id: str | None = None  # a job token: it acts on this run only (the attempt it was given for)

    @property
    def bootstrap(self) -> bool:
        return self.org_id is None

    def may(self, role: Role) -> bool:
        """reader < writer < admin; an agent token does agent things only, and only it does them."""
        if Role.agent in (role, self.role):
            return self.role == role
        return RANK[self.role] >= RANK[role]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header, or Unauthorized saying what to send."""
    if not header:
        raise Unauthorized(f"no token: {_HOW}")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(f"the Authorization header is not a bearer token: {_HOW}")
    return token.strip()


BOOTSTRAP = Principal(org_id=None, org=None, role=Role.admin, actor=BOOTSTRAP_ACTOR)


def is_bootstrap(token: str, bootstrap: str) -> bool:
    return hmac.compare_digest(token.encode(), bootstrap.encode())


def lookup(sessions: Callable[[], Session], digest: str) -> Principal:
    """The principal of a token's SHA-256, from the database (Unauthorized if unknown or revoked)."""
    with sessions() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None:
            job = session.scalar(select(Job).where(Job.token_hash == digest))
            if job is not None and job.run.state in ("queued", "running"):
                actor = f"job:{job.node_id}#{job.attempt}"
                return Principal(job.org_id, job.run.project.org.name, Role.writer, actor, run_id=job.run_id)
            if job is not None:  # a stale attempt: its agent stops its copy
                raise Conflict(f"this job attempt is over: run {job.run_id} is {job.run.state}; stop it")
        if row is None or row.revoked_at is not None:
            raise Unauthorized(f"the token is unknown or revoked: {_HOW}")
        actor = f"user:{row.user.name}" if row.user else f"token:{row.name}"
        return Principal(org_id=row.org_id, org=row.org.name, role=Role(row.role), actor=actor)


class TokenCache:
    """Principals of known tokens for ``ttl`` seconds: most requests need no token query.

    Revoking through the API clears it at once; a token revoked by another process (another
    central, or ``bhub-central admin``) stops working within ``ttl``. Unknown tokens are not
    cached, and the cache never holds more than ``size`` entries.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        self._entries.clear()


# -- administration (API routes and `bhub-central admin` share these) ---------------------------


def create_org(session: Session, name: str) -> Organization:
    if session.scalar(select(Organization).where(Organization.name == name)) is not None:
        raise Conflict(f"organization {name!r} exists already")
    org = Organization(name=name)
    session.add(org)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"organization {name!r} exists already") from None
    return org


def list_orgs(session: Session) -> Sequence[Organization]:
    return session.scalars(select(Organization).order_by(Organization.name)).all()


def org_by_name(session: Session, name: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise NotFound(f"no organization {name!r}; create it first ('bhubctl admin orgs create {name}')")
    return org


def _user(session: Session, org_id: int, name: str) -> User:
    user = session.scalar(select(User).where(User.org_id == org_id, User.name == name))
    if user is None:
        user = User(org_id=org_id, name=name)
        session.add(user)
        session.flush()
    return user


def create_user(session: Session, org_id: int, name: str) -> User:
    if session.scalar(select(User).where(User.org_id == org_id, User.name == name)) is not None:
        raise Conflict(f"user {name!r} exists already")
    user = _user(session, org_id, name)
    session.commit()
    return user


def list_users(session: Session, org_id: int) -> Sequence[User]:
    return session.scalars(select(User).where(User.org_id == org_id).order_by(User.name)).all()


def create_token(
    session: Session, org_id: int, name: str, role: Role, user: str | None, created_by: str
) -> tuple[ApiToken, str]:
    """A new token; the secret is returned here once and never stored."""
    secret = mint()
    row = ApiToken(
        org_id=org_id,
        user_id=_user(session, org_id, user).id if user else None,
        name=name,
        role=role.value,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(secret),
        created_by=created_by,
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, secret


def list_tokens(session: Session, org_id: int) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.org_id == org_id).order_by(ApiToken.id)).all()


def revoke_token(session: Session, org_id: int, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return row
