"""The local stack: VictoriaMetrics, central, the agent and vmagent as native processes.

Each process is started by ``up`` with a pid file under $BENCHHUB_HOME/run; ``down`` stops
exactly those (a pid file whose process has a different start time is stale, not ours).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

import httpx
import psutil
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from central.home import benchhub_home
from cli.errors import StackError
from cli.settings import admin_token_file, stack_file, token_file

PROVISIONING = Path(__file__).resolve().parents[1] / "provisioning"
STATIC_AGENTS = """\
# Agents vmagent scrapes without asking central (ones started without BENCHHUB_AGENT_CENTRAL_URL).
# Prometheus file_sd format, e.g.:
# - targets: ["10.0.0.5:9465"]
#   labels: {org: acme}
[]
"""
_INSTALL_HINT = "install it with 'apt-get install victoria-metrics' (or run 'make setup')"


def start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (/proc/PID/stat, field 22).

    Written by hand because psutil only offers create_time: boot time + these ticks, where the
    boot time is derived from the wall clock, so a stepped clock (NTP, a VM resumed) moved every
    service's create_time and a running stack looked stopped, its pid files deleted.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHHUB_STACK_", extra="ignore")

    home: Path = Field(default_factory=benchhub_home)
    vm_port: int = Field(default=8428, ge=1, le=65535)
    vmagent_port: int = Field(default=8429, ge=1, le=65535)
    central_port: int = Field(default=8090, ge=1, le=65535)
    agent_port: int = Field(default=9465, ge=1, le=65535)
    scrape_interval: str = Field(default="10s", pattern=r"^\d+(ms|s|m)$")
    retention: str = Field(default="1y", pattern=r"^\d+[hdwy]?$")
    latency_offset: str = Field(default="1s", pattern=r"^\d+(ms|s|m)$")
    ready_timeout: float = Field(default=30.0, gt=0)
    vmalert_port: int = Field(default=8880, ge=1, le=65535)
    watched_branches: str = Field(
        default="main,master", pattern=r"^[^,\s]+(,[^,\s]+)*$",
        description="comma-separated branches whose change points open regressions",
    )  # fmt: skip
    evaluation_interval: str = Field(default="1m", pattern=r"^\d+(ms|s|m)$")
    org: str = Field(
        default="local", pattern=r"^[^\s/][^\s]*$", description="the organization of the local stack"
    )


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    port: int
    health_path: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # running | stopped | stale | unhealthy
    pid: int | None
    url: str


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not installed: {_INSTALL_HINT}")
    return path


class Stack:
    """Start, check and stop the local stack described by ``settings``."""

    def __init__(self, settings: StackSettings, python: str = sys.executable) -> None:
        self.settings = settings
        self.home = settings.home
        self._python = python
        self.run_dir = self.home / "run"
        self.log_dir = self.home / "logs"

    def services(self) -> list[Service]:
        """In start order; ``down`` stops them in reverse."""
        s, home = self.settings, self.home
        vm = f"http://127.0.0.1:{s.vm_port}"
        central = f"http://127.0.0.1:{s.central_port}"
        common = {"BENCHHUB_HOME": str(home)}
        return [
            Service(
                "victoria-metrics",
                [
                    "victoria-metrics",
                    f"-storageDataPath={home / 'victoria-metrics-data'}",
                    f"-httpListenAddr=127.0.0.1:{s.vm_port}",
                    f"-retentionPeriod={s.retention}",
                    "-dedup.minScrapeInterval=1s",
                    f"-search.latencyOffset={s.latency_offset}",
                ],
                s.vm_port, "/health", common,
            ),
            Service(
                "central",
                [self._python, "-m", "central.main", "serve", "--listen", f"127.0.0.1:{s.central_port}"],
                s.central_port, "/healthz",
                {**common, "BENCHHUB_CENTRAL_VM_URL": vm,
                 "BENCHHUB_CENTRAL_WATCHED_BRANCHES": json.dumps(s.watched_branches.split(",")),
                 # runs' series go through vmagent, which buffers them on disk while storage is down
                 "BENCHHUB_CENTRAL_IMPORT_URL": f"http://127.0.0.1:{s.vmagent_port}",
                 "BENCHHUB_CENTRAL_ADMIN_TOKEN_FILE": str(admin_token_file(home))},
            ),
            Service(
                "agent",
                [self._python, "-m", "exporter.main", "--listen", f"127.0.0.1:{s.agent_port}"],
                s.agent_port, "/healthz",
                {**common, "BENCHHUB_AGENT_STATE_DIR": str(home / "agent"),
                 "BENCHHUB_AGENT_CENTRAL_URL": central, "BENCHHUB_AGENT_JOBS": "1",
                 "BENCHHUB_AGENT_CENTRAL_TOKEN_FILE": str(agent_token_file(home))},
            ),
            Service(
                "vmalert",
                [
                    "vmalert",
                    f"-rule={home / 'vmalert' / 'rules.yml'}",
                    f"-datasource.url={vm}",
                    f"-remoteWrite.url={vm}",  # recorded baselines and alert state
                    f"-remoteRead.url={vm}",  # alert state survives a restart
                    f"-notifier.url={central}/api/v1/alertmanager",
                    f"-notifier.bearerTokenFile={admin_token_file(home)}",
                    f"-evaluationInterval={s.evaluation_interval}",
                    f"-httpListenAddr=127.0.0.1:{s.vmalert_port}",
                ],
                s.vmalert_port, "/health", common,
            ),
            Service(
                "vmagent",
                [
                    "vmagent",
                    f"-promscrape.config={home / 'vmagent' / 'scrape.yml'}",
                    f"-remoteWrite.url={vm}/api/v1/write",
                    f"-remoteWrite.tmpDataPath={home / 'vmagent' / 'buffer'}",
                    f"-httpListenAddr=127.0.0.1:{s.vmagent_port}",
                    "-promscrape.httpSDCheckInterval=5s",  # a new agent is scraped within seconds
                ],
                s.vmagent_port, "/health", common,
            ),
        ]  # fmt: skip

    def render_rules(self) -> Path:
        """provisioning/vmalert/rules.yml with this stack's evaluation interval."""
        values = {"evaluation_interval": self.settings.evaluation_interval}
        text = fill((PROVISIONING / "vmalert" / "rules.yml").read_text(), values)
        path = self.home / "vmalert" / "rules.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def render_scrape_config(self) -> Path:
        s = self.settings
        timeout = s.scrape_interval if _seconds(s.scrape_interval) < 10 else "10s"
        text = Template((PROVISIONING / "vmagent" / "scrape.yml").read_text()).substitute(
            scrape_interval=s.scrape_interval,
            scrape_timeout=timeout,
            central_url=f"http://127.0.0.1:{s.central_port}",
            static_agents_file=self.home / "vmagent" / "static-agents.yml",
            central_target=f"127.0.0.1:{s.central_port}",
            central_token_file=admin_token_file(self.home),
            vmagent_target=f"127.0.0.1:{s.vmagent_port}",
            vmalert_target=f"127.0.0.1:{s.vmalert_port}",
        )
        path = self.home / "vmagent" / "scrape.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        static = self.home / "vmagent" / "static-agents.yml"
        if not static.exists():  # the user's own list: written once, never overwritten
            static.write_text(STATIC_AGENTS)
        return path

    # -- pid files ---------------------------------------------------------------------------

    def _pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def _owned_process(self, name: str) -> psutil.Process | None:
        """The process ``up`` started for ``name``, if it still runs; stale pid files go."""
        path = self._pidfile(name)
        try:
            record = json.loads(path.read_text())
            proc = psutil.Process(int(record["pid"]))
            ticks = start_ticks(proc.pid)
            if record.get("start_ticks") is not None and ticks is not None:
                same = ticks == int(record["start_ticks"])
            else:  # a pid file of an earlier version
                same = abs(proc.create_time() - float(record["create_time"])) < 0.05
            if same and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, psutil.Error):
            pass
        path.unlink(missing_ok=True)
        return None

    # -- actions ------------------------------------------------------------------------------

    def up(self, progress: Callable[[str], None] = lambda _msg: None) -> list[ServiceStatus]:
        """Start what is not running yet; idempotent. Rolls back what it started on failure."""
        services = self.services()
        for service in services:
            if self._owned_process(service.name) is None and "/" not in service.argv[0]:
                _binary(service.argv[0])
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)  # secrets, the database, logs, runs' output: the owner's only
        for path in (self.run_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.render_scrape_config()
        self.render_rules()
        write_secret(admin_token_file(self.home), secrets.token_urlsafe(32), keep=True)
        started: list[Service] = []
        try:
            for service in services:
                if self._owned_process(service.name) is not None:
                    progress(f"{service.name}: already running")
                else:
                    self._start(service)
                    started.append(service)
                    self._wait_ready(service)
                    progress(f"{service.name}: ready on {service.url}")
                if service.name == "central":  # the agent needs its token before it starts
                    self._bootstrap(service.url, progress)
        except StackError:
            for service in reversed(started):
                self._stop(service.name)
            raise
        self._record_urls()
        return self.status()

    def _record_urls(self) -> None:
        """Where this stack listens, for every bhubctl using this home without URLs of its own."""
        url = {service.name: service.url for service in self.services()}
        urls = {"central_url": url["central"], "agent_url": url["agent"], "vm_url": url["victoria-metrics"]}
        stack_file(self.home).write_text(json.dumps(urls, indent=1) + "\n")

    def _bootstrap(self, central: str, progress: Callable[[str], None]) -> None:
        """The stack's org and its tokens: one for you (admin) and one for the agent (agent).

        Kept across restarts; minted again when central no longer knows them (database reset).
        """
        admin = admin_token_file(self.home).read_text().strip()
        org = self.settings.org
        with httpx.Client(base_url=central, timeout=10) as http:
            created = http.post("/api/v1/admin/orgs", json={"name": org}, headers=_bearer(admin))
            if created.status_code not in (201, 409):
                raise StackError(
                    f"central refused to create org {org!r} ({created.status_code}): {created.text}"
                )
            for path, name, role in ((token_file(self.home), "local-admin", "admin"),
                                     (agent_token_file(self.home), "local-agent", "agent")):  # fmt: skip
                if path.exists():
                    me = http.get("/api/v1/whoami", headers=_bearer(path.read_text().strip()))
                    # an agent token of earlier versions was a writer token: minted again as agent
                    if me.status_code == 200 and me.json()["org"] == org and me.json()["role"] == role:
                        continue
                minted = http.post(f"/api/v1/admin/orgs/{org}/tokens", json={"name": name, "role": role},
                                   headers=_bearer(admin))  # fmt: skip
                if minted.status_code != 201:
                    raise StackError(
                        f"central refused a token for {org!r} ({minted.status_code}): {minted.text}"
                    )
                write_secret(path, minted.json()["token"], keep=False)
                progress(f"central: {role} token of org {org} written to {path}")

    def _start(self, service: Service) -> None:
        if not _port_free(service.port):
            raise StackError(
                f"port {service.port} for {service.name} is taken by another process: stop it, "
                f"or choose another port with BENCHHUB_STACK_{_port_var(service.name)}"
            )
        argv = [_binary(service.argv[0]) if "/" not in service.argv[0] else service.argv[0],
                *service.argv[1:]]  # fmt: skip
        # posix_spawn, not Popen: the service outlives bhubctl, so no Popen object may own it.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        log = os.open(self.log_dir / f"{service.name}.log", flags, 0o600)
        try:
            pid = os.posix_spawn(
                argv[0], argv, {**os.environ, **service.env},
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                ],
                setsid=True,
            )  # fmt: skip
        finally:
            os.close(log)
        created = psutil.Process(pid).create_time()
        record = {"pid": pid, "create_time": created, "start_ticks": start_ticks(pid), "argv": argv}
        self._pidfile(service.name).write_text(json.dumps(record))

    def _wait_ready(self, service: Service) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout
        while time.monotonic() < deadline:
            if self._owned_process(service.name) is None:
                raise StackError(
                    f"{service.name} exited during start-up; its log says:\n{self.tail(service.name, 8)}"
                )
            if _healthy(service):
                return
            time.sleep(0.2)
        raise StackError(
            f"{service.name} was not ready on {service.url}{service.health_path} after "
            f"{self.settings.ready_timeout:g} s; see 'bhubctl stack logs {service.name}'"
        )

    def down(self, progress: Callable[[str], None] = lambda _msg: None) -> None:
        for service in reversed(self.services()):
            progress(f"{service.name}: {'stopped' if self._stop(service.name) else 'was not running'}")

    def _stop(self, name: str) -> bool:
        proc = self._owned_process(name)
        if proc is None:
            return False
        proc.send_signal(signal.SIGTERM)
        if not _ended(proc, 15):
            proc.kill()
            if not _ended(proc, 5):
                raise StackError(f"{name} (pid {proc.pid}) did not stop, even when killed")
        self._pidfile(name).unlink(missing_ok=True)
        return True

    def status(self) -> list[ServiceStatus]:
        out = []
        for service in self.services():
            proc = self._owned_process(service.name)
            state = "stopped" if proc is None else "running" if _healthy(service) else "unhealthy"
            out.append(ServiceStatus(service.name, state, proc.pid if proc else None, service.url))
        return out

    def tail(self, name: str, lines: int = 50) -> str:
        if name not in {s.name for s in self.services()}:
            known = ", ".join(s.name for s in self.services())
            raise StackError(f"no stack service {name!r}; services: {known}")
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each ``${name}``; a name without a value is an error (``$name`` is left alone)."""

    def one(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise StackError(f"template placeholder ${{{match.group(1)}}} has no value") from None

    return re.sub(r"\$\{(\w+)\}", one, text)


def agent_token_file(home: Path) -> Path:
    return home / "secrets" / "agent-token"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def write_secret(path: Path, value: str, keep: bool) -> None:
    """Write a secret readable by its owner only; with ``keep``, an existing one stays."""
    if keep and path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    tmp.replace(path)


def _seconds(duration: str) -> float:
    """'500ms', '10s', '2m' -> seconds."""
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if duration.endswith(suffix):
            return float(duration.removesuffix(suffix)) * factor
    raise ValueError(f"not a duration: {duration!r}")


def _ended(proc: psutil.Process, timeout: float) -> bool:
    """Gone, or a zombie (exited; only its parent, maybe another bhubctl, can reap it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
            proc.wait(0.1)
            return True
        except psutil.TimeoutExpired:
            continue
        except psutil.NoSuchProcess:
            return True
    return False


def free_local_port() -> int:
    """A free TCP port on 127.0.0.1 (for short-lived helpers such as vmbackup's HTTP listener)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the servers do: connections in TIME_WAIT from a stopped stack do not hold the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_var(name: str) -> str:
    return {"victoria-metrics": "VM_PORT"}.get(name, f"{name.upper()}_PORT")


def _healthy(service: Service) -> bool:
    try:
        return httpx.get(service.url + service.health_path, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
