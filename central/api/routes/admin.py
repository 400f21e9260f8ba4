"""Organizations, users and tokens; who am I.

Organizations and their first tokens are the bootstrap admin token's; an org's admin tokens
manage that org's users and tokens.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from central import auth
from central.api.deps import AnyTokenDep, BootstrapDep, OrgAdminDep, SessionDep
from central.models import ApiToken
from central.schemas import (
    OrgCreate,
    OrgPublic,
    OrgsPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    WhoAmI,
)

router = APIRouter(prefix="/api/v1", tags=["access"])


def token_public(row: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=row.id, org=row.org.name, name=row.name, role=row.role, user=row.user.name if row.user else None,
        prefix=row.prefix, created_at=row.created_at, created_by=row.created_by, revoked_at=row.revoked_at,
    )  # fmt: skip


def _created(row: ApiToken, secret: str) -> TokenCreated:
    return TokenCreated(**token_public(row).model_dump(), token=secret)


@router.get("/whoami")
def whoami(who: AnyTokenDep) -> WhoAmI:
    return WhoAmI(org=who.org, role=who.role, actor=who.actor)


@router.post("/admin/orgs", status_code=201)
def create_org(body: OrgCreate, session: SessionDep, _: BootstrapDep) -> OrgPublic:
    return OrgPublic.model_validate(auth.create_org(session, body.name))


@router.get("/admin/orgs")
def list_orgs(session: SessionDep, _: BootstrapDep) -> OrgsPublic:
    rows = [OrgPublic.model_validate(o) for o in auth.list_orgs(session)]
    return OrgsPublic(data=rows, count=len(rows))


@router.post("/admin/orgs/{org}/tokens", status_code=201)
def create_org_token(org: str, body: TokenCreate, session: SessionDep, who: BootstrapDep) -> TokenCreated:
    """A token of any organization (its first admin token, typically)."""
    org_id = auth.org_by_name(session, org).id
    return _created(*auth.create_token(session, org_id, body.name, body.role, body.user, who.actor))


@router.get("/admin/orgs/{org}/tokens")
def list_org_tokens(org: str, session: SessionDep, _: BootstrapDep) -> TokensPublic:
    rows = [token_public(t) for t in auth.list_tokens(session, auth.org_by_name(session, org).id)]
    return TokensPublic(data=rows, count=len(rows))


@router.post("/users", status_code=201)
def create_user(body: UserCreate, session: SessionDep, who: OrgAdminDep) -> UserPublic:
    assert who.org_id is not None
    return UserPublic.model_validate(auth.create_user(session, who.org_id, body.name))


@router.get("/users")
def list_users(session: SessionDep, who: OrgAdminDep) -> UsersPublic:
    assert who.org_id is not None
    rows = [UserPublic.model_validate(u) for u in auth.list_users(session, who.org_id)]
    return UsersPublic(data=rows, count=len(rows))


@router.post("/tokens", status_code=201)
def create_token(body: TokenCreate, session: SessionDep, who: OrgAdminDep) -> TokenCreated:
    assert who.org_id is not None
    return _created(*auth.create_token(session, who.org_id, body.name, body.role, body.user, who.actor))


@router.get("/tokens")
def list_tokens(session: SessionDep, who: OrgAdminDep) -> TokensPublic:
    assert who.org_id is not None
    rows = [token_public(t) for t in auth.list_tokens(session, who.org_id)]
    return TokensPublic(data=rows, count=len(rows))


@router.delete("/tokens/{token_id}")
def revoke_token(
    request: Request,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    who: OrgAdminDep,
) -> TokenPublic:
    """Revoke the token at once; it stays listed, with its revocation time."""
    assert who.org_id is not None
    revoked = token_public(auth.revoke_token(session, who.org_id, token_id))
    request.app.state.tokens.clear()  # in effect from the next request on
    return revoked
