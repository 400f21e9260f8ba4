"""The agent's settings, from BENCHHUB_AGENT_* environment variables."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from central.home import benchhub_home
from exporter.collectors.host import DEFAULT_FS_EXCLUDE


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHHUB_AGENT_", extra="ignore")

    listen: str = Field(default="0.0.0.0:9465", pattern=r"^[^:\s]+:\d{1,5}$")
    hostname: str = Field(default_factory=socket.gethostname, min_length=1)
    state_dir: Path = Field(default_factory=lambda: benchhub_home() / "agent")
    collect_host: bool = True
    collect_runs: bool = True
    collect_containers: bool = True
    # Docker's socket, or Podman's Docker-compatible one (unix:///run/podman/podman.sock)
    docker_socket: str = Field(default="unix:///var/run/docker.sock", min_length=1)
    # how often the container list is asked for (new containers show up within this)
    container_list_interval_seconds: float = Field(default=5.0, ge=0, le=300)
    # how often the process trees of runs in progress are read between scrapes (peak RSS)
    run_sample_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # JSON list in the environment, e.g. BENCHHUB_AGENT_FS_EXCLUDE_TYPES='["tmpfs","nfs"]'
    fs_exclude_types: frozenset[str] = DEFAULT_FS_EXCLUDE

    # Registration with central (off without a URL): the node then shows in central's service
    # discovery, which the provisioned vmagent scrapes instead of a static target list.
    central_url: str | None = None
    # an agent token of the machine's organization (or a file holding it): the org is the token's
    central_token: SecretStr | None = None
    central_token_file: Path | None = None
    org: str | None = Field(
        default=None, min_length=1, description="the organization; if set, it must be the token's"
    )
    advertise_ip: str | None = Field(
        default=None, description="address vmagent should scrape; default: listen"
    )
    # every request body (watches are a few hundred bytes)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=3600)
    # Jobs from central (off at 0): at most this many at once, an exclusive one alone
    jobs: int = Field(default=0, ge=0, le=64)
    # what a job's requirements are matched with (JSON object in the environment)
    labels: dict[str, str] = Field(default_factory=dict, max_length=50)
    # repository mirrors and per-job checkouts; default: state_dir/jobs
    workspace_dir: Path | None = None
    provider: str = Field(default="local", min_length=1)
    role: str = Field(default="runner", min_length=1)

    def token(self) -> str | None:
        """The central token (read from central_token_file at each call: it may be rotated)."""
        if self.central_token is not None:
            return self.central_token.get_secret_value()
        if self.central_token_file is not None:
            return self.central_token_file.read_text().strip()
        return None

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])
