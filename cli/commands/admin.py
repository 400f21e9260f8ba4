"""bhubctl admin ...: organizations (bootstrap token), users and tokens (an org admin token)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from central.schemas import Role, TokenCreate, TokenPublic
from cli.output import console, err_console
from cli.settings import CliSettings

app = typer.Typer(help="Organizations, users and API tokens.", no_args_is_help=True)
orgs = typer.Typer(help="Organizations (needs central's bootstrap token, BENCHHUB_ADMIN_TOKEN).")
tokens = typer.Typer(help="API tokens of an organization.")
users = typer.Typer(help="Users of your organization.")
app.add_typer(orgs, name="orgs", no_args_is_help=True)
app.add_typer(tokens, name="tokens", no_args_is_help=True)
app.add_typer(users, name="users", no_args_is_help=True)

OrgOption = Annotated[
    str | None,
    typer.Option(help="act on this org with the bootstrap token (default: your token's own org)"),
]


@app.command()
def whoami() -> None:
    """The organization and role of your token."""
    me = CliSettings().central().whoami()
    console.print(f"{me.actor}: {me.role.value} of {me.org or 'every organization (bootstrap token)'}")


@orgs.command("create")
def create_org(name: Annotated[str, typer.Argument(help="the organization's name")]) -> None:
    """Create an organization; then give it a token with 'bhubctl admin tokens create --org NAME'."""
    org = CliSettings().central(admin=True).create_org(name)
    console.print(f"created organization {org.name}")


@orgs.command("list")
def list_orgs() -> None:
    table = Table("organization", "created")
    for org in CliSettings().central(admin=True).list_orgs().data:
        table.add_row(org.name, f"{org.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Option(help="what the token is for, e.g. ci")],
    role: Annotated[Role, typer.Option(help="reader, writer or admin")] = Role.writer,
    user: Annotated[str | None, typer.Option(help="the user it belongs to (created if new)")] = None,
    org: OrgOption = None,
) -> None:
    """Mint a token; the secret goes to stdout, once (it is stored only as a hash)."""
    central = CliSettings().central(admin=org is not None)
    made = central.create_token(TokenCreate(name=name, role=role, user=user), org=org)
    err_console.print(f"token {made.id} ({made.role.value}) of {made.org}; it is shown only now:")
    print(made.token)


def _tokens_table(rows: list[TokenPublic]) -> Table:
    table = Table("id", "name", "role", "user", "prefix", "created", "state")
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        table.add_row(str(t.id), t.name, t.role.value, t.user or "", t.prefix + "…",
                      f"{t.created_at:%Y-%m-%d %H:%M} by {t.created_by}", state)  # fmt: skip
    return table


@tokens.command("list")
def list_tokens(org: OrgOption = None) -> None:
    """The org's tokens (never their secrets)."""
    console.print(_tokens_table(CliSettings().central(admin=org is not None).list_tokens(org).data))


@tokens.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="the id 'tokens list' shows")]) -> None:
    """Revoke a token of your org at once."""
    done = CliSettings().central().revoke_token(token_id)
    console.print(f"revoked token {done.id} ({done.name})")


@users.command("create")
def create_user(name: Annotated[str, typer.Argument(help="the user's name")]) -> None:
    console.print(f"created user {CliSettings().central().create_user(name).name}")


@users.command("list")
def list_users() -> None:
    for user in CliSettings().central().list_users().data:
        console.print(user.name)
