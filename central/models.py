"""The tables. Every time is stored as UTC and read back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Naive UTC in the database (SQLite keeps no zone), aware UTC in Python."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_projects_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    repository_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization] = relationship(lazy="joined")


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    commit: Mapped[str] = mapped_column(String(100), index=True)
    branch: Mapped[str] = mapped_column(String(500), index=True)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    host: Mapped[str] = mapped_column(String(255))
    parser: Mapped[str] = mapped_column(String(50))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    raw_output: Mapped[str | None] = mapped_column(Text)
    raw_output_ref: Mapped[str | None] = mapped_column(String(2000))
    resources: Mapped[dict[str, float] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # how long its runner may take; past it (and a grace) central fails the run as abandoned
    timeout_seconds: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(20))  # 'abandoned': failed by central
    # characters of output received live (a job's agent streams it); raw_output keeps the tail
    output_chars: Mapped[int | None] = mapped_column(Integer)
    output_sha256: Mapped[str | None] = mapped_column(String(64))  # the runner's, of the whole output
    # bhub.yaml's thresholds for the target at this commit, by measure: compare uses the head's
    thresholds: Mapped[dict[str, dict[str, object]] | None] = mapped_column(JSON)
    # schemas.MachineState: the machine the run ran on (a job's: its agent's, set when it starts)
    machine: Mapped[dict[str, object] | None] = mapped_column(JSON)

    project: Mapped[Project] = relationship(lazy="joined")

    @property
    def org(self) -> str:
        return self.project.org.name

    @property
    def project_name(self) -> str:
        return self.project.name


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("run_id", "key", name="uq_results_run_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(1500))
    benchmark: Mapped[str] = mapped_column(String(1000))
    measure: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(50))
    value: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    iterations: Mapped[int | None] = mapped_column(BigInteger)
    mean: Mapped[float | None] = mapped_column(Float)
    median: Mapped[float | None] = mapped_column(Float)
    stddev: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    sample_count: Mapped[int | None] = mapped_column(BigInteger)
    samples: Mapped[list[float] | None] = mapped_column(JSON)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    context: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    direction: Mapped[str | None] = mapped_column(String(10))  # declared: 'lower' | 'higher'


class Node(Base):
    """A machine running the agent; its id is chosen by the agent and kept across restarts."""

    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    bind: Mapped[str] = mapped_column(String(300))
    remote: Mapped[str | None] = mapped_column(String(64))
    port: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    boot_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[str] = mapped_column(String(100))
    cpus: Mapped[int | None] = mapped_column(Integer)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), index=True)
    heartbeat_seconds: Mapped[float] = mapped_column(Float)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drained: Mapped[bool | None] = mapped_column(Boolean)  # takes no new jobs (its running ones finish)
    # the labels its agent last asked for jobs with, and when (a queued job's 'why it waits')
    job_labels: Mapped[dict[str, str] | None] = mapped_column(JSON)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship(lazy="joined")


class User(Base):
    """A person (or service) of one organization; tokens may belong to one."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_users_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token of one organization with one role; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")


class Alert(Base):
    """A regression alert vmalert sent (Alertmanager format), one row per distinct label set."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("org_id", "fingerprint", name="uq_alerts_org_fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    generator_url: Mapped[str | None] = mapped_column(String(2000))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BackupTarget(Base):
    """Where an organization's backups go (its own S3 bucket) and how many to keep."""

    __tablename__ = "backup_targets"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    endpoint_url: Mapped[str | None] = mapped_column(String(2000))
    bucket: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(500))
    access_key_id: Mapped[str | None] = mapped_column(String(500))
    secret_access_key: Mapped[str | None] = mapped_column(String(500))  # never returned by the API
    keep_last: Mapped[int] = mapped_column(Integer)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_seconds: Mapped[float | None] = mapped_column(Float)
    last_bytes: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")  # scheduled backups that failed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization] = relationship(lazy="joined")


class Regression(Base):
    """A watched branch got worse at a change point: open, acknowledged by a person, or fixed."""

    __tablename__ = "regressions"
    __table_args__ = (Index("ix_regressions_series", "project_id", "target", "branch", "series_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(200))
    branch: Mapped[str] = mapped_column(String(500))
    benchmark: Mapped[str] = mapped_column(String(1000))
    measure: Mapped[str] = mapped_column(String(100))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    series_key: Mapped[str] = mapped_column(String(64))  # sha256 of benchmark, measure, labels
    unit: Mapped[str] = mapped_column(String(50))
    direction: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), index=True)
    commit: Mapped[str] = mapped_column(String(100))  # the first commit at the new level
    previous_commit: Mapped[str | None] = mapped_column(String(100))  # the last at the old: the suspect range
    run_id: Mapped[str] = mapped_column(String(36))  # the first run at the new level
    before: Mapped[float] = mapped_column(Float)
    after: Mapped[float] = mapped_column(Float)
    change: Mapped[float] = mapped_column(Float)
    change_low: Mapped[float] = mapped_column(Float)
    change_high: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    runs_before: Mapped[int] = mapped_column(Integer)
    runs_after: Mapped[int] = mapped_column(Integer)
    fixed_commit: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was acknowledged
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(lazy="joined")


class Job(Base):
    """A run queued for benchmark machines: what to run, and which agent holds it (one attempt).

    Its life is its run's (queued, running, finished, failed, cancelled); a claim sets the node
    and a token for that attempt only, stored hashed like every token.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_queue", "org_id", "node_id"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    repository_url: Mapped[str] = mapped_column(String(2000))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # the bhub.yaml target, as submitted
    requirements: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # labels a node must have
    exclusive: Mapped[bool] = mapped_column(Boolean, default=True)  # alone on its machine
    retries: Mapped[int] = mapped_column(Integer, default=0)  # attempts again after a lost node
    # a dirty tree: its changes as a git bundle over the run's commit, and the commit to check out
    bundle: Mapped[bytes | None] = mapped_column(LargeBinary)
    bundle_commit: Mapped[str | None] = mapped_column(String(100))
    node_id: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # renewed by the agent's heartbeats
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    run: Mapped[Run] = relationship(lazy="joined")


class Event(Base):
    """An appended, never updated, record of one state change."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)  # why, when a person says it
