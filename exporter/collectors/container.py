"""Running containers (Docker, or Podman's Docker-compatible API): cAdvisor's figures, our names.

The list of containers, their names, images and labels come from the API; the numbers from
each container's cgroup files and network namespace (through its main process), never from
``stats(stream=False)``, which takes two seconds. No reachable API: ``benchhub_container_runtime_up``
is 0 and every other collector goes on.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from exporter import metrics as m
from exporter.cgroups import CgroupReader, cgroup_paths, net_dev

log = logging.getLogger("exporter.collectors.container")
Family = GaugeMetricFamily | CounterMetricFamily
API_VERSION = "1.41"  # Docker 20.10+; Podman 4's compatible API serves it too
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    labels: dict[str, str]
    pid: int
    started_at: float | None  # Unix time


class RuntimeUnavailable(Exception):
    """The container API cannot be reached."""


class ContainerSource(Protocol):
    def running(self) -> list[ContainerInfo]: ...


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def _started(text: object) -> float | None:
    """Docker's RFC 3339 time with nanoseconds (Python reads at most microseconds), as Unix time."""
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if match is None or match.group(1).startswith("0001-"):  # 0001-01-01: never started
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(f"{match.group(1)}.{(match.group(2) or '0')[:6]:0<6}{zone}").timestamp()


class DockerSource:
    """The Docker SDK against ``base_url``; a container is inspected once, when first seen.

    The list is asked for at most every ``list_interval`` seconds (Podman's answer costs ~1 ms
    a container); in between, a container whose main process is gone is dropped at once, and a
    new one shows up at the next listing.
    """

    def __init__(
        self, base_url: str, timeout: float = 5.0, list_interval: float = 5.0, proc: Path = Path("/proc")
    ) -> None:
        self._base_url = base_url
        self._timeout = timeout
        self._list_interval = list_interval
        self._proc = proc
        self._known: dict[str, ContainerInfo] = {}
        self._listed_at = -math.inf

    def running(self) -> list[ContainerInfo]:
        now = time.monotonic()
        if now - self._listed_at < self._list_interval:
            return [c for c in self._known.values() if (self._proc / str(c.pid)).exists()]
        found = self._list()
        self._listed_at = now
        return found

    def _list(self) -> list[ContainerInfo]:
        import docker  # the SDK is only needed where containers are collected
        import requests
        from docker.errors import DockerException

        socket = self._base_url.removeprefix("unix://") if self._base_url.startswith("unix://") else None
        if socket is not None and not os.path.exists(socket):  # no daemon here: say so without trying
            raise RuntimeUnavailable(f"no container API at {self._base_url}: {socket} does not exist")

        # A fixed API version: "auto" would ask the server in the constructor, outside this try.
        client = docker.APIClient(base_url=self._base_url, timeout=self._timeout, version=API_VERSION)
        try:
            return self._running(client)
        except (DockerException, requests.RequestException) as exc:
            raise RuntimeUnavailable(f"no container API at {self._base_url}: {exc}") from None
        finally:
            client.close()

    def _running(self, client: Any) -> list[ContainerInfo]:
        from docker.errors import NotFound

        found = []
        for summary in client.containers():
            cid = summary["Id"]
            if cid not in self._known:
                try:
                    attrs = client.inspect_container(cid)
                except NotFound:
                    continue  # it stopped between the list and the inspection
                self._known[cid] = ContainerInfo(
                    id=cid, name=attrs.get("Name", "").lstrip("/"), image=attrs["Config"].get("Image", ""),
                    labels=attrs["Config"].get("Labels") or {}, pid=int(attrs["State"].get("Pid") or 0),
                    started_at=_started(attrs["State"].get("StartedAt")),
                )  # fmt: skip
            found.append(self._known[cid])
        alive = {c.id for c in found}
        self._known = {k: v for k, v in self._known.items() if k in alive}
        return found


class ContainerCollector:
    """benchhub_container_*: one set of series per running container (labels id, name, image)."""

    def __init__(self, source: ContainerSource, cgroups: CgroupReader, proc: Path = Path("/proc")) -> None:
        self._source = source
        self._cgroups = cgroups
        self._proc = proc

    def collect(self) -> Iterator[Metric]:
        up = m.CONTAINER_RUNTIME_UP.new_family()
        try:
            containers = self._source.running()
        except RuntimeUnavailable as exc:
            log.debug("%s", exc)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        families = {spec.name: spec.new_family() for spec in m.CONTAINER_METRICS}
        for container in containers:
            try:
                self._add(container, families)
            except (FileNotFoundError, ProcessLookupError, PermissionError) as exc:
                log.debug("container %s skipped: %s", container.name, exc)  # gone, or not ours to read
        yield from families.values()

    def _add(self, c: ContainerInfo, families: dict[str, Family]) -> None:
        if c.pid <= 0:
            return
        paths = cgroup_paths((self._proc / str(c.pid) / "cgroup").read_text())
        stats = self._cgroups.stats(paths)
        labels = [c.id, c.name, c.image]
        figures = {
            m.CONTAINER_CPU_USER.name: stats.cpu_user_seconds,
            m.CONTAINER_CPU_SYSTEM.name: stats.cpu_system_seconds,
            m.CONTAINER_CPU_USAGE.name: stats.cpu_usage_seconds,
            m.CONTAINER_CFS_PERIODS.name: stats.cfs_periods,
            m.CONTAINER_CFS_THROTTLED_PERIODS.name: stats.cfs_throttled_periods,
            m.CONTAINER_CFS_THROTTLED_SECONDS.name: stats.cfs_throttled_seconds,
            m.CONTAINER_MEMORY_USAGE.name: stats.memory_usage_bytes,
            m.CONTAINER_MEMORY_WORKING_SET.name: stats.memory_working_set_bytes,
            m.CONTAINER_MEMORY_LIMIT.name: stats.memory_limit_bytes or 0,  # 0: no limit, as cAdvisor
            m.CONTAINER_OOM_EVENTS.name: stats.oom_events,
            m.CONTAINER_FS_READS.name: stats.io_read_bytes,
            m.CONTAINER_FS_WRITES.name: stats.io_written_bytes,
            m.CONTAINER_PROCESSES.name: stats.processes,
            m.CONTAINER_START_TIME.name: c.started_at,
        }
        for name, value in figures.items():
            if value is not None:
                families[name].add_metric(labels, float(value))
        for dev in net_dev((self._proc / str(c.pid) / "net/dev").read_text()):
            with_if = [*labels, dev.interface]
            families[m.CONTAINER_NET_RX_BYTES.name].add_metric(with_if, dev.receive_bytes)
            families[m.CONTAINER_NET_RX_PACKETS.name].add_metric(with_if, dev.receive_packets)
            families[m.CONTAINER_NET_TX_BYTES.name].add_metric(with_if, dev.transmit_bytes)
            families[m.CONTAINER_NET_TX_PACKETS.name].add_metric(with_if, dev.transmit_packets)
        info = [*labels, c.labels.get(COMPOSE_PROJECT, ""), c.labels.get(COMPOSE_SERVICE, "")]
        families[m.CONTAINER_INFO.name].add_metric(info, 1.0)
