"""bhub-central: serve the API with uvicorn, or migrate the database."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from central import db
from central.app import create_app
from central.settings import CentralSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bhub-central", description="BenchHub central service")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the API (the default)")
    serve.add_argument("--listen", help="host:port (default: BENCHHUB_CENTRAL_LISTEN or 127.0.0.1:8090)")
    sub.add_parser("migrate", help="bring the database schema up to date and exit")
    args = parser.parse_args(argv)
    overrides = {"listen": args.listen} if getattr(args, "listen", None) else {}
    settings = CentralSettings(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "migrate":
        db.upgrade(db.make_engine(settings.database_url))
        return
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
