"""bhub-agent processes that take jobs, beside a stack's own agent (fault tests, make bench-jobs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import psutil

from cli.stack import agent_token_file
from exporter.jobs import JOB_ENV
from tests.conftest import free_port
from tests.servers import wait_until_up


def of_job(processes: Iterable[psutil.Process], run_id: str) -> list[psutil.Process]:
    """Those of ``processes`` that any attempt of the job started (its id in their environment)."""
    found = []
    for proc in processes:
        try:
            if proc.environ().get(JOB_ENV, "").startswith(f"{run_id}#"):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


class AgentProcess:
    """A bhub-agent (its own state dir, so its own node) taking ``jobs`` jobs at once that
    require ``labels``: the stack's own agent has no labels and never matches them."""

    def __init__(
        self, home: Path, central: str, root: Path, name: str, labels: dict[str, str], jobs: int = 2,
        env: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.name, port = name, free_port()
        env = {
            **os.environ, **(env or {}), "BENCHHUB_HOME": str(home),
            "BENCHHUB_AGENT_STATE_DIR": str(root / name), "BENCHHUB_AGENT_HOSTNAME": name,
            "BENCHHUB_AGENT_CENTRAL_URL": central, "BENCHHUB_AGENT_HEARTBEAT_SECONDS": "1",
            "BENCHHUB_AGENT_CENTRAL_TOKEN_FILE": str(agent_token_file(home)),
            "BENCHHUB_AGENT_JOBS": str(jobs), "BENCHHUB_AGENT_LABELS": json.dumps(labels),
            "BENCHHUB_AGENT_COLLECT_CONTAINERS": "false",
        }  # fmt: skip
        self.log = (root / f"{name}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "exporter.main", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until_up(f"http://127.0.0.1:{port}/healthz", self.proc, f"agent {name}", timeout=60)

    def job_processes(self, run_id: str) -> list[psutil.Process]:
        """This agent's processes of the job (its children carrying the job's id)."""
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return of_job(children, run_id)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
