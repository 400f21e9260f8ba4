"""bhub-central: serve the API, migrate the database, or administer orgs and tokens on the server."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import socket
import sys
import tempfile
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from central import auth, db
from central.app import create_app
from central.backup_schedule import BackupScheduler
from central.errors import DomainError
from central.schemas import Role
from central.settings import CentralSettings


def _admin_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser("admin", help="organizations and tokens, straight in the database")
    acts = admin.add_subparsers(dest="action", required=True)
    org = acts.add_parser("create-org", help="create an organization")
    org.add_argument("name")
    acts.add_parser("list-orgs", help="list organizations")
    token = acts.add_parser("create-token", help="mint a token; the secret is printed once, on stdout")
    token.add_argument("--org", required=True)
    token.add_argument("--name", required=True, help="what it is for, e.g. ci")
    token.add_argument("--role", choices=[r.value for r in Role], default=Role.admin.value)
    token.add_argument("--user", help="the user it belongs to (created if new)")
    tokens = acts.add_parser("list-tokens", help="the org's tokens (never their secrets)")
    tokens.add_argument("--org", required=True)
    revoke = acts.add_parser("revoke-token", help="revoke a token by id")
    revoke.add_argument("--org", required=True)
    revoke.add_argument("id", type=int)


def _admin(settings: CentralSettings, args: argparse.Namespace) -> None:
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    try:
        with db.session_factory(engine)() as session:
            if args.action == "create-org":
                print(f"created organization {auth.create_org(session, args.name).name}", file=sys.stderr)
            elif args.action == "list-orgs":
                for org in auth.list_orgs(session):
                    print(f"{org.name}\t{org.created_at:%Y-%m-%d %H:%M:%S}Z")
            elif args.action == "create-token":
                org_id = auth.org_by_name(session, args.org).id
                row, secret = auth.create_token(
                    session, org_id, args.name, Role(args.role), args.user, "bhub-central admin"
                )
                print(f"token {row.id} ({row.role}) of {args.org}; it is shown only now:", file=sys.stderr)
                print(secret)
            elif args.action == "list-tokens":
                for t in auth.list_tokens(session, auth.org_by_name(session, args.org).id):
                    state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
                    user = t.user.name if t.user else "-"
                    print(f"{t.id}\t{t.name}\t{t.role}\t{user}\t{t.prefix}…\t{state}")
            elif args.action == "revoke-token":
                auth.revoke_token(session, auth.org_by_name(session, args.org).id, args.id)
                print(f"revoked token {args.id}", file=sys.stderr)
    except DomainError as exc:
        raise SystemExit(f"error: {exc.detail}") from None
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bhub-central", description="BenchHub central service")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the API (the default)")
    serve.add_argument("--listen", help="host:port (default: BENCHHUB_CENTRAL_LISTEN or 127.0.0.1:8090)")
    sub.add_parser("migrate", help="bring the database schema up to date and exit")
    _admin_parser(sub)
    args = parser.parse_args(argv)
    overrides = {"listen": args.listen} if getattr(args, "listen", None) else {}
    try:
        settings = CentralSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = (
            "BENCHHUB_CENTRAL_" + "_".join(str(p) for p in first["loc"]).upper()
            if first["loc"]
            else "settings"
        )
        raise SystemExit(f"error: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    level = logging.WARNING if args.command == "admin" else logging.INFO  # admin output stays one line
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "migrate":
        db.upgrade(db.make_engine(settings.database_url))
        return
    if args.command == "admin":
        _admin(settings, args)
        return
    if settings.workers > 1:
        _serve_workers(settings)
        return
    app = create_app(settings)
    _tune_gc()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


def _tune_gc() -> None:
    """Requests make many short-lived objects: fewer, larger young collections, and start-up's
    long-lived objects (routes, models, metadata) kept out of every full collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def worker_app() -> FastAPI:
    """One worker of ``serve --workers N`` (uvicorn imports it in each process)."""
    app = create_app(CentralSettings(), schedule_backups=False)
    _tune_gc()
    return app


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket of the workers (bound; each worker's uvicorn calls listen).

    SO_REUSEPORT: every worker has its own socket on the address and the kernel spreads new
    connections over them. Workers sharing one socket do not share the load: a worker woken
    for a burst of connections accepts them all, and keep-alive clients then stay on it (8
    benchmark clients all landed on one of two workers). Made as TCP explicitly: uvicorn's own
    socket leaves its protocol 0, so asyncio skips TCP_NODELAY on every connection and each
    keep-alive response waits ~40 ms for the client's delayed ACK (uvicorn issue 3149).
    """
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = _WorkerSocket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class _WorkerSocket(socket.socket):
    """A socket that a spawned worker receives as a new socket on the same address, not as a
    copy of this one (uvicorn hands sockets to its workers by pickling them)."""

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return listening_socket, (host, port)


def _answers(host: str, port: int) -> bool:
    """Whether a server already accepts connections on host:port (a central with workers
    there would share its port with this one: SO_REUSEPORT lets it)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def _serve_workers(settings: CentralSettings) -> None:
    """N worker processes on one address; this parent migrates the database first (workers
    would race to), runs the one backup schedule, and gives them a folder for their metrics."""
    if _answers(settings.host, settings.port):
        raise SystemExit(f"error: cannot listen on {settings.listen}: another server answers there")
    sock = listening_socket(settings.host, settings.port)  # holds the port; each worker gets its own
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    scheduler = BackupScheduler.of(settings, db.session_factory(engine))
    if scheduler is not None:
        scheduler.start()
    try:
        with tempfile.TemporaryDirectory(prefix="benchhub-central-metrics-") as shared:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared  # read by the workers' prometheus_client
            os.environ["BENCHHUB_CENTRAL_LISTEN"] = settings.listen  # --listen, for the workers
            config = uvicorn.Config(
                "central.main:worker_app", factory=True, workers=settings.workers,
                host=settings.host, port=settings.port, log_level="info",
            )  # fmt: skip
            Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
        if scheduler is not None:
            scheduler.stop()
        engine.dispose()


if __name__ == "__main__":
    main()
