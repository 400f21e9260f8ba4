"""API payloads, apart from the tables: XCreate (in), XPublic (out), XsPublic (lists)."""

from __future__ import annotations

import enum
import ipaddress
import math
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

from central import wire
from exporter.units import to_base_unit

# defined in central.wire (stdlib only, for bhubctl's run path); the API's modules take them from here
ABANDONED = wire.ABANDONED
ALLOWED_TRANSITIONS = wire.ALLOWED_TRANSITIONS
Direction = wire.Direction
INT64 = wire.INT64
MAX_RAW_OUTPUT = wire.MAX_RAW_OUTPUT
MAX_RESULTS_PER_BATCH = wire.MAX_RESULTS_PER_BATCH
MAX_RESULTS_PER_RUN = wire.MAX_RESULTS_PER_RUN
MAX_RUN_SECONDS = wire.MAX_RUN_SECONDS
MAX_SAMPLES = wire.MAX_SAMPLES
MAX_THRESHOLDS = wire.MAX_THRESHOLDS
RunState = wire.RunState
StatTest = wire.StatTest

_NAME = r"^[^\s/][^\s]*$"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def node_ip(text: str) -> str:
    """An address vmagent can scrape: a unicast IP (v4 or v6), written canonically."""
    address = ipaddress.ip_address(text.strip())  # ValueError names the text
    if address.is_unspecified or address.is_multicast:
        raise ValueError(f"{text!r} is not an address a node can be scraped at")
    return str(address)


class Threshold(BaseModel):
    """When a change counts, for one measure (or ``*``: every measure) of a target."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    test: StatTest = StatTest.mwu
    alpha: float = Field(default=0.05, gt=0, lt=1, description="false discovery rate (p-value tests)")
    limit: float | None = Field(
        default=None, gt=0, le=1000,
        description="percentage: the fraction a change must exceed (0.05); iqr: the IQR multiplier (1.5)",
    )  # fmt: skip
    min_samples: int | None = Field(
        default=None, ge=1, le=MAX_SAMPLES,
        description="fewer on a side: insufficient; default 3 (iqr: 4 in the base, percentage: 1)",
    )  # fmt: skip
    min_effect: float = Field(
        default=0.02, ge=0, le=1000,
        description="a smaller relative change is 'unchanged', however significant",
    )  # fmt: skip
    window: int = Field(
        default=20, ge=2, le=100,
        description="one value per run: the base's last runs that form its distribution",
    )  # fmt: skip


MeasureName = Annotated[str, Field(min_length=1, max_length=100)]  # a result's measure, or '*'


class ResultIn(BaseModel):
    """One measured value, in the tool's own unit, with the statistics the tool gave.

    A benchmark that reported an error has ``error`` set and no ``value``: a failed result,
    never a zero. ``labels`` identify the result within its run; ``context`` only describes it
    (tool statistics beyond the common ones, parameters, groups, machine facts).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    benchmark: str = Field(min_length=1, max_length=1000)
    measure: str = Field(min_length=1, max_length=100)
    unit: str = Field(min_length=1, max_length=50)
    value: float | None = None
    error: str | None = Field(default=None, min_length=1, max_length=10_000)
    iterations: int | None = Field(default=None, ge=0, le=INT64)
    mean: float | None = None
    median: float | None = None
    stddev: float | None = None
    min: float | None = None
    max: float | None = None
    sample_count: int | None = Field(default=None, ge=0, le=INT64)
    samples: list[float] | None = Field(default=None, max_length=MAX_SAMPLES)
    labels: dict[str, str] = Field(default_factory=dict)
    context: dict[str, str] = Field(default_factory=dict)
    direction: Direction | None = Field(
        default=None, description="which way is better; default: from the measure and unit"
    )

    @model_validator(mode="after")
    def _value_or_error(self) -> ResultIn:
        if (self.value is None) == (self.error is None):
            raise ValueError("a result has either a value or an error, exactly one of them")
        return self

    def key(self) -> str:
        """What makes a result unique within its run (for idempotent uploads)."""
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{self.benchmark}\x1f{self.measure}\x1f{labels}"


class ResultPublic(ResultIn):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    id: int
    run_id: str


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ResultIn] = Field(max_length=MAX_RESULTS_PER_BATCH)

    @model_validator(mode="after")
    def _finite_in_base_units(self) -> ResultsIn:
        # central writes the value in base units (seconds, bytes): 1e300 GB/s would be +Inf
        # there, on every series of the result. Checked on the way in only: a stored result
        # stays readable (ResultPublic shares ResultIn's validators).
        for i, result in enumerate(self.results):
            if result.value is None:
                continue
            base, base_unit = to_base_unit(result.value, result.unit)
            if not math.isfinite(base):
                raise ValueError(
                    f"results.{i}: {result.value:g} {result.unit} ({result.benchmark}) is past a float's "
                    f"range in {base_unit}; check the value and its unit"
                )
        return self


class ResultsPublic(BaseModel):
    data: list[ResultPublic]
    count: int


class RunCreate(BaseModel):
    """What a client knows when it starts a run."""

    model_config = ConfigDict(extra="forbid")

    org: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=_NAME,
        description="the token's organization; if given, it must be that one",
    )  # fmt: skip
    project: str = Field(min_length=1, max_length=200, pattern=_NAME)
    repository_url: str | None = Field(default=None, max_length=2000)
    target: str = Field(min_length=1, max_length=200, pattern=_NAME)
    commit: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z._-]+$")
    branch: str = Field(min_length=1, max_length=500)
    dirty: bool = False
    host: str = Field(min_length=1, max_length=255)
    parser: str = Field(min_length=1, max_length=50)
    labels: dict[str, str] = Field(default_factory=dict)
    state: RunState = RunState.running
    timeout_seconds: float | None = Field(
        default=None, gt=0, le=MAX_RUN_SECONDS,
        description="how long the runner may take; past it plus a grace, central fails the run as abandoned",
    )  # fmt: skip
    thresholds: dict[MeasureName, Threshold] = Field(
        default_factory=dict, max_length=MAX_THRESHOLDS,
        description="the target's bhub.yaml thresholds by measure ('*': default); compare uses the head's",
    )  # fmt: skip
    machine: MachineState | None = Field(default=None, description="the machine at the run's start")


class RunResources(BaseModel):
    """What the run's process tree used: the agent's samples (totals and peaks), raised to the
    command's own rusage (exact CPU, largest process's peak RSS) where that is higher."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cpu_user_seconds: float = Field(ge=0)
    cpu_system_seconds: float = Field(ge=0)
    max_rss_bytes: int = Field(ge=0, le=INT64)
    read_bytes: int = Field(ge=0, le=INT64)
    written_bytes: int = Field(ge=0, le=INT64)
    voluntary_context_switches: int = Field(ge=0, le=INT64)
    involuntary_context_switches: int = Field(ge=0, le=INT64)
    max_threads: int = Field(ge=0, le=INT64)
    max_processes: int = Field(ge=0, le=INT64)
    samples: int = Field(ge=0, le=INT64, description="how many times the agent sampled the tree")


class MachineState(BaseModel):
    """The benchmark machine as the run found it: what makes two runs' timings comparable or not.
    A fact the machine does not expose (no cpufreq in a VM) is null."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cpu_model: str | None = Field(default=None, max_length=200)
    cpus: int | None = Field(default=None, ge=1, le=1_000_000, description="logical CPUs online")
    cpu_set: str | None = Field(
        default=None, max_length=200, pattern=r"^[0-9,-]+$", description="the CPUs the run could use"
    )
    governor: str | None = Field(default=None, max_length=100, description="cpufreq scaling governor")
    boost: bool | None = Field(default=None, description="turbo/boost enabled")
    smt: bool | None = Field(default=None, description="simultaneous multithreading active")
    aslr: int | None = Field(default=None, ge=0, le=2, description="kernel.randomize_va_space")
    kernel: str | None = Field(default=None, max_length=200)
    load_start: float | None = Field(default=None, ge=0, description="1-minute load average at start")
    load_end: float | None = Field(default=None, ge=0, description="1-minute load average at the end")


#: the facts that make two machines' timings differ (the load is the moment's, not the machine's)
MACHINE_FACTS = ("cpu_model", "cpus", "cpu_set", "governor", "boost", "smt", "aslr", "kernel")


class RunTransition(BaseModel):
    """A state change, with what the client knows at that moment."""

    model_config = ConfigDict(extra="forbid")

    state: RunState
    exit_code: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    message: str | None = Field(default=None, max_length=10_000)
    raw_output: str | None = Field(default=None, max_length=MAX_RAW_OUTPUT)
    raw_output_ref: str | None = Field(default=None, max_length=2000)
    output_chars: int | None = Field(
        default=None,
        ge=0,
        le=INT64,
        description="characters of the whole output (raw_output may be its tail)",
    )
    output_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the whole output's text, UTF-8"
    )
    resources: RunResources | None = None
    machine: MachineState | None = Field(
        default=None, description="the machine's state now; its facts replace the ones the run had"
    )


class RunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org: str
    project: str
    target: str
    commit: str
    branch: str
    dirty: bool
    host: str
    parser: str
    labels: dict[str, str]
    state: RunState
    exit_code: int | None
    message: str | None
    raw_output_ref: str | None
    output_chars: int | None = Field(default=None, description="characters of the whole output")
    output_sha256: str | None = Field(default=None, description="the runner's SHA-256 of the whole output")
    resources: RunResources | None = None
    machine: MachineState | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    timeout_seconds: float | None = None
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    reason: str | None = Field(
        default=None, description="'abandoned': central failed it, no runner said it ended in time"
    )
    waiting: str | None = Field(default=None, description="a queued job: why no agent has started it yet")


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page; null: no more"
    )


class StageEvent(BaseModel):
    """A background stage of a running run changed state (its runner says so)."""

    model_config = ConfigDict(extra="forbid")

    stage: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    state: Literal["starting", "ready", "failed", "exited", "stopped"]
    reason: str | None = Field(default=None, max_length=2000)


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject: str
    subject_id: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    reason: str | None = None


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int


class NodeState(enum.StrEnum):
    """``up`` while heartbeats arrive; ``lost`` after 3 heartbeat intervals of silence."""

    up = "up"
    lost = "lost"


class NodeRegister(BaseModel):
    """What an agent tells central about its machine when it starts (sent again: idempotent)."""

    model_config = ConfigDict(extra="forbid")

    org: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=_NAME,
        description="the token's organization; if given, it must be that one",
    )  # fmt: skip
    hostname: str = Field(min_length=1, max_length=255)
    ip: str | None = Field(
        default=None, max_length=64, description="IP address to scrape; default: bind, else remote"
    )
    bind: str = Field(
        min_length=1,
        max_length=300,
        description="host:port it listens on (an IP or a DNS name; port 1-65535)",
    )
    started_at: AwareDatetime
    boot_time: AwareDatetime | None = None
    provider: str = Field(default="local", min_length=1, max_length=100)
    cpus: int | None = Field(default=None, ge=1, le=2**31 - 1)
    memory_bytes: int | None = Field(default=None, ge=0, le=INT64)
    role: str = Field(default="runner", min_length=1, max_length=50)
    heartbeat_seconds: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return None if value is None else node_ip(value)

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("bind must be HOST:PORT with a port from 1 to 65535")
        bare = host.removeprefix("[").removesuffix("]")
        if bare in ("0.0.0.0", "::", ""):
            return value  # every address: central scrapes the ip given, else the one it came from
        try:
            node_ip(bare)
        except ValueError:
            if not _HOSTNAME.fullmatch(host):
                raise ValueError(f"bind host {host!r} is neither an IP address nor a DNS name") from None
        return value


class NodePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org: str
    hostname: str
    ip: str | None
    bind: str
    remote: str | None
    started_at: datetime
    boot_time: datetime | None
    provider: str
    cpus: int | None
    memory_bytes: int | None
    role: str
    state: NodeState
    heartbeat_seconds: float
    registered_at: datetime
    last_heartbeat_at: datetime
    drained: bool = False


class NodesPublic(BaseModel):
    data: list[NodePublic]
    count: int


class TargetGroup(BaseModel):
    """One entry of Prometheus HTTP service discovery."""

    targets: list[str]
    labels: dict[str, str]


class ReexportPublic(BaseModel):
    run_id: str
    samples: int = Field(description="samples written to VictoriaMetrics (results and markers)")


class Role(enum.StrEnum):
    """reader: read everything of the org; writer: + runs and results; admin: + users, tokens.

    agent: a benchmark machine's agent; registers its node (a scrape target of the org) and
    heartbeats, nothing else; no other role may register a node.
    """

    reader = "reader"
    writer = "writer"
    admin = "admin"
    agent = "agent"


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=_NAME)


class OrgPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    created_at: datetime


class OrgsPublic(BaseModel):
    data: list[OrgPublic]
    count: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=_NAME)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    created_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="what the token is for, e.g. 'ci'")
    role: Role = Role.writer
    user: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=_NAME,
        description="the user it belongs to (created if new); none: a service token",
    )  # fmt: skip


class TokenPublic(BaseModel):
    """A token as listed: never the secret, only its first characters."""

    id: int
    org: str
    name: str
    role: Role
    user: str | None
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret: shown this once, stored only as a hash")


class TokensPublic(BaseModel):
    data: list[TokenPublic]
    count: int


class WhoAmI(BaseModel):
    org: str | None = Field(description="null for the bootstrap admin token")
    role: Role
    actor: str


class AlertIn(BaseModel):
    """One alert as vmalert (or Prometheus) posts it to Alertmanager's /api/v2/alerts."""

    model_config = ConfigDict(extra="ignore")

    labels: dict[str, str] = Field(max_length=100)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=100)
    startsAt: AwareDatetime | None = None
    endsAt: AwareDatetime | None = None
    generatorURL: str | None = Field(default=None, max_length=2000)


class AlertState(enum.StrEnum):
    firing = "firing"
    resolved = "resolved"


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    state: AlertState
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str | None
    received_at: datetime


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int


class AlertsReceived(BaseModel):
    received: int
    stored: int
    refused: int = Field(description="alerts naming an organization the token may not write to")


class BackupTargetIn(BaseModel):
    """The org's S3 bucket; the secret is stored by central and never shown again."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$")
    endpoint_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s]+$",
                                     description="S3-compatible endpoint; none: AWS")  # fmt: skip
    region: str = Field(default="us-east-1", min_length=1, max_length=100)
    prefix: str = Field(default="benchhub", min_length=1, max_length=500, pattern=r"^[^\s]+$")
    access_key_id: str | None = Field(default=None, min_length=1, max_length=500)
    secret_access_key: SecretStr | None = Field(default=None, min_length=1, max_length=500)
    keep_last: int = Field(default=7, ge=1, le=10_000)
    keep_days: int | None = Field(default=None, ge=1, le=36_500)

    @field_serializer("secret_access_key", when_used="json")
    def _secret_on_the_wire(self, secret: SecretStr | None) -> str | None:
        # The JSON of this model is the request that hands the secret to central: send the
        # secret itself (SecretStr's default JSON is '**********', which central then stored).
        return None if secret is None else secret.get_secret_value()


class BackupTargetPublic(BaseModel):
    bucket: str
    endpoint_url: str | None
    region: str
    prefix: str
    access_key_id: str | None
    has_secret: bool
    keep_last: int
    keep_days: int | None
    last_success_at: datetime | None
    last_duration_seconds: float | None
    last_bytes: int | None


class BackupObject(BaseModel):
    key: str
    bytes: int
    sha256: str


class BackupManifest(BaseModel):
    """Written last: a backup without it is incomplete and never restored."""

    format: int
    org: str
    timestamp: str
    created_at: datetime
    objects: list[BackupObject]
    series: int
    rows: dict[str, int]
    benchhub_version: str
    victoriametrics_version: str


class BackupsPublic(BaseModel):
    data: list[BackupManifest]
    count: int


class ErrorPublic(BaseModel):
    """Every error central returns: a short code and a sentence saying what to fix."""

    error: str
    detail: str
