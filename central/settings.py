"""central's settings, from BENCHHUB_CENTRAL_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from central.home import benchhub_home


class CentralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHHUB_CENTRAL_", extra="ignore")

    listen: str = Field(default="127.0.0.1:8090", pattern=r"^[^:\s]+:\d{1,5}$")
    database_url: str = ""
    admin_token: SecretStr | None = None
    admin_token_file: Path | None = Field(
        default=None, description="read the bootstrap token from this file (kept out of the environment)"
    )
    vm_url: str | None = None
    import_url: str | None = Field(
        default=None,
        description="where runs' series are written (a vmagent, which buffers while storage is down); "
        "default: vm_url",
    )
    grafana_url: str | None = None
    grafana_token: SecretStr | None = Field(
        default=None, description="a Grafana service account token (Editor), or 'user:password'"
    )
    max_body_bytes: int = 8 * 1024 * 1024
    workers: int = Field(
        default=1, ge=1, le=64, description="API processes: one per core serves the most (metrics are summed)"
    )
    abandon_grace_seconds: float = Field(
        default=600, ge=0, le=7 * 24 * 3600,
        description="a run still open this long past its timeout is failed as abandoned",
    )  # fmt: skip
    abandon_default_timeout_seconds: float = Field(
        default=24 * 3600, gt=0, le=30 * 24 * 3600, description="the timeout of runs created without one"
    )
    abandon_sweep_seconds: float = Field(default=30, gt=0, le=3600, description="how often to look for them")
    watched_branches: list[str] = Field(
        default=["main", "master"], max_length=100,
        description="branches whose change points open regressions (JSON list in the environment)",
    )  # fmt: skip
    max_queued_jobs: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="queued jobs an org may have; past it a submit is refused (429)",
    )
    job_lease_seconds: float = Field(
        default=30, gt=0, le=3600,
        description="a claimed job's lease, renewed by its agent's heartbeats; past it the reaper acts",
    )  # fmt: skip
    detect_window: int = Field(
        default=100, ge=20, le=1000, description="runs of a series the detector reads when a run finishes"
    )
    baseline_runs: list[int] = Field(
        default=[1, 5, 10, 20, 50], min_length=0, max_length=8,
        description="baseline windows (runs) of the change series written with each run (JSON list); "
        "[] writes none; 1 is the previous run, which the dashboards' 'vs previous' reads",
    )  # fmt: skip
    metrics_public: bool = Field(
        default=False, description="serve /metrics without the bootstrap token (its labels name every org)"
    )
    backup_interval_hours: float | None = Field(
        default=None, gt=0, le=24 * 365, description="back up every org with a bucket this often; none: never"
    )

    @field_validator("baseline_runs")
    @classmethod
    def _windows(cls, windows: list[int]) -> list[int]:
        if any(not 1 <= n <= 200 for n in windows):
            raise ValueError("BASELINE_RUNS: each window is 1 to 200 runs, e.g. [1, 5, 10, 20, 50]")
        return sorted(set(windows))

    @field_validator("database_url")
    @classmethod
    def _default_sqlite(cls, url: str) -> str:
        return url or f"sqlite:///{benchhub_home() / 'central.db'}"

    @model_validator(mode="after")
    def _token_from_file(self) -> CentralSettings:
        if self.admin_token is None and self.admin_token_file is not None:
            try:
                text = self.admin_token_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"ADMIN_TOKEN_FILE: cannot read it ({exc.strerror})") from None
            self.admin_token = self._no_placeholder(SecretStr(text))
        return self

    @field_validator("admin_token")
    @classmethod
    def _no_placeholder(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None:
            return None
        if token.get_secret_value().lower() in {"changeme", "changethis", "admin", "secret", "password"}:
            raise ValueError("ADMIN_TOKEN must be a real secret, not a placeholder")
        if len(token.get_secret_value()) < 16:
            raise ValueError("ADMIN_TOKEN is too short: use 16 characters or more (openssl rand -hex 24)")
        return token

    @property
    def write_url(self) -> str | None:
        """Where central writes series: import_url, else VictoriaMetrics itself."""
        return self.import_url or self.vm_url

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])
