"""bhub-agent: serve /metrics with uvicorn."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from exporter.app import create_app
from exporter.settings import AgentSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bhub-agent", description="BenchHub agent")
    parser.add_argument("--listen", help="host:port (default: BENCHHUB_AGENT_LISTEN or 0.0.0.0:9465)")
    args = parser.parse_args(argv)
    settings = AgentSettings(**({"listen": args.listen} if args.listen else {}))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


if __name__ == "__main__":
    main()
