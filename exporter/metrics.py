"""The catalog: every metric BenchHub exposes, with its labels and their cardinality.

Dashboards, alert rules and scrape configs use only names from here (a test checks it).
Benchmark samples are in base units (seconds, bytes) with the unit in the ``unit`` label;
central keeps each result in the tool's own unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

MetricType = Literal["gauge", "counter", "histogram"]


@dataclass(frozen=True)
class MetricSpec:
    """One exposed metric family; ``name`` is the sample name (counters end in _total)."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...]
    cardinality: str

    @property
    def family(self) -> str:
        """The family name prometheus-client takes (it appends _total to counters)."""
        return self.name.removesuffix("_total") if self.type == "counter" else self.name

    def new_family(self) -> GaugeMetricFamily | CounterMetricFamily:
        """An empty family for a custom collector's ``collect()`` (gauges and counters)."""
        cls = CounterMetricFamily if self.type == "counter" else GaugeMetricFamily
        return cls(self.family, self.help, labels=self.labels)


# org/project/target/benchmark/measure/unit/commit/branch/run_id/host/procs/pkg: one series per
# result of a run, one sample each (written by central when the run is over): a commit's or a
# run's results are found by label. procs and pkg are empty (absent) unless the result has them
# (pkg: a Go name found in two packages of a run).
BENCHMARK_LABELS = (
    "org", "project", "target", "benchmark", "measure", "unit",
    "commit", "branch", "run_id", "host", "procs", "pkg",
)  # fmt: skip
# A benchmark's identity on a branch: the per-run labels without commit, run_id and host. The
# trend and change series carry only these, so they hold a sample per run in ONE series per
# benchmark, and a dashboard's "latest / previous / baseline" costs benchmarks, not
# benchmarks x runs (make bench-scale; README "Data model").
TREND_LABELS = tuple(n for n in BENCHMARK_LABELS if n not in ("commit", "run_id", "host"))

BENCHMARK_VALUE = MetricSpec(
    "benchhub_benchmark_value",
    "gauge",
    "Headline value of a benchmark result in base units (seconds, bytes), at the run's end time.",
    BENCHMARK_LABELS,
    "results x runs, one sample each",
)
BENCHMARK_ITERATIONS = MetricSpec(
    "benchhub_benchmark_iterations",
    "gauge",
    "Iterations the benchmark tool ran to measure the result, at the run's end time.",
    BENCHMARK_LABELS,
    "results x runs, one sample each",
)
BENCHMARK_TREND = MetricSpec(
    "benchhub_benchmark_trend",
    "gauge",
    "A benchmark's headline value on a branch, one sample per run at its end, in base units: the "
    "same samples as benchhub_benchmark_value without the per-run labels.",
    TREND_LABELS,
    "results of a branch (one series per benchmark, a sample per run)",
)
BENCHMARK_CHANGE = MetricSpec(
    "benchhub_benchmark_change",
    "gauge",
    "A run's value relative to the median of the ``runs`` finished runs of its branch before it "
    "(fewer when the branch has fewer; 0.1 = 10% larger), at the run's end; written by central.",
    (*TREND_LABELS, "runs"),
    "results of a branch x baseline windows (BENCHHUB_CENTRAL_BASELINE_RUNS)",
)
# The trend and change samples again, in a series per benchmark and UTC day of the run's end
# (``at_day="2026-12-02"``): the dashboards' questions at the newest run read these, so they
# decode a day of runs per benchmark. On the trend series they decode the whole block the
# sample is in, which holds a month once the month is merged into one part: 960 samples a
# benchmark at 960 runs a month (make bench-scale). The day is not a label of the trend series
# themselves: the graphs and the variables read those over the whole range, where a series per
# day would cost the range's days.
# The label's name sorts before every other: VictoriaMetrics lays a metric's series out on disk
# grouped by the value of its alphabetically first label (the TSID's "job", lib/storage
# generateTSID), so a day's series lie together. Named ``day`` (after ``benchmark``), each
# benchmark's days lay together instead, and fetching the newest day's 1,000 blocks took 3.1 ms
# instead of 1.0 (60 runs over 30 days; VictoriaMetrics' query trace).
DAY_LABEL = "at_day"
BENCHMARK_TREND_DAILY = MetricSpec(
    "benchhub_benchmark_trend_daily",
    "gauge",
    "benchhub_benchmark_trend's samples, in one series per UTC day of the runs' ends (label at_day, "
    "YYYY-MM-DD): what the dashboards read at the newest run.",
    (*TREND_LABELS, DAY_LABEL),
    "results of a branch x days with a run",
)
BENCHMARK_CHANGE_DAILY = MetricSpec(
    "benchhub_benchmark_change_daily",
    "gauge",
    "benchhub_benchmark_change's samples, in one series per UTC day of the runs' ends (label at_day, "
    "YYYY-MM-DD): what the dashboards read at the newest run.",
    (*TREND_LABELS, "runs", DAY_LABEL),
    "results of a branch x baseline windows x days with a run",
)
BRANCH_RUN = MetricSpec(
    "benchhub_branch_run_results",
    "gauge",
    "Results with a value that a run of the target on the branch wrote, one sample per run at its "
    "end: one series per target and branch, so 'when did the newest run end' reads one series "
    "instead of a marker per run.",
    ("org", "project", "target", "branch"),
    "targets x branches (a sample per run)",
)
RUN_INFO = MetricSpec(
    "benchhub_run_info",
    "gauge",
    "A run's marker, written by central at its start (edge=start) and end (edge=end); always 1.",
    ("org", "project", "target", "commit", "branch", "run_id", "state", "edge"),
    "runs x 2 edges, one sample each",
)
AGENT_INFO = MetricSpec(
    "benchhub_agent_info", "gauge", "Agent version and host; always 1.", ("version", "host"), "1"
)
COLLECTOR_DURATION = MetricSpec(
    "benchhub_agent_collector_duration_seconds",
    "gauge",
    "Time a collector took during this scrape.",
    ("collector",),
    "one per collector",
)
COLLECTOR_SUCCESS = MetricSpec(
    "benchhub_agent_collector_success",
    "gauge",
    "1 if the collector succeeded during this scrape, 0 if it failed.",
    ("collector",),
    "one per collector",
)
CENTRAL_REQUESTS = MetricSpec(
    "benchhub_central_requests_total",
    "counter",
    "HTTP requests served by central.",
    ("method", "route", "status"),
    "routes x methods x status codes",
)
CENTRAL_REQUEST_DURATION = MetricSpec(
    "benchhub_central_request_duration_seconds",
    "histogram",
    "Time central took to serve an HTTP request.",
    ("method", "route"),
    "routes x methods",
)

BACKUP_LAST_SUCCESS = MetricSpec(
    "benchhub_backup_last_success_timestamp_seconds",
    "gauge",
    "Unix time of the organization's last complete backup.",
    ("org",),
    "orgs with a backup bucket",
)
BACKUP_LAST_DURATION = MetricSpec(
    "benchhub_backup_last_duration_seconds",
    "gauge",
    "How long the organization's last complete backup took.",
    ("org",),
    "orgs with a backup bucket",
)
BACKUP_LAST_BYTES = MetricSpec(
    "benchhub_backup_last_bytes",
    "gauge",
    "Bytes written by the organization's last complete backup.",
    ("org",),
    "orgs with a backup bucket",
)
BACKUP_FAILURES = MetricSpec(
    "benchhub_backup_failures_total",
    "counter",
    "Scheduled backups of the organization that failed since central started.",
    ("org",),
    "orgs with a backup bucket",
)
REGRESSIONS_OPEN = MetricSpec(
    "benchhub_regressions_open",
    "gauge",
    "Open regressions (change points that made a watched branch worse), by series.",
    ("org", "project", "target", "branch", "benchmark", "measure"),
    "series of watched branches with an open regression",
)
CHANGE_POINT = MetricSpec(
    "benchhub_change_point",
    "gauge",
    "A change point that opened (kind regression) or fixed (kind fix) a regression: the relative "
    "change, at the end of the first run at the new level. Written by central.",
    ("org", "project", "target", "branch", "benchmark", "measure", "commit", "kind"),
    "regressions opened and fixed",
)

# -- host (psutil), mirroring node_exporter's node_* metrics; see README "Host metrics" --------
_FS = ("device", "mountpoint", "fstype")  # mounted real filesystems: a handful per host


def _host(
    name: str, type_: MetricType, help_: str, labels: tuple[str, ...] = (), card: str = "1"
) -> MetricSpec:
    return MetricSpec(f"benchhub_host_{name}", type_, help_, labels, card)


HOST_CPU_SECONDS = _host("cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.",
                         ("cpu", "mode"), "cpus x 8 modes")  # fmt: skip
HOST_LOAD1 = _host("load1", "gauge", "1-minute load average.")
HOST_LOAD5 = _host("load5", "gauge", "5-minute load average.")
HOST_LOAD15 = _host("load15", "gauge", "15-minute load average.")
HOST_MEMORY = {
    field: _host(f"memory_{field}_bytes", "gauge", f"Memory {field.replace('_', ' ')} in bytes.")
    for field in ("total", "available", "free", "buffers", "cached", "swap_total", "swap_free")
}
HOST_FILESYSTEM = {
    "size": _host("filesystem_size_bytes", "gauge", "Filesystem size in bytes.", _FS, "filesystems"),
    "avail": _host(
        "filesystem_avail_bytes", "gauge", "Bytes available to non-root users.", _FS, "filesystems"
    ),
    "free": _host("filesystem_free_bytes", "gauge", "Free bytes.", _FS, "filesystems"),
    "files": _host("filesystem_files", "gauge", "Inodes in total.", _FS, "filesystems"),
    "files_free": _host("filesystem_files_free", "gauge", "Free inodes.", _FS, "filesystems"),
}
HOST_DISK = {
    "read_bytes": _host("disk_read_bytes_total", "counter", "Bytes read.", ("device",), "block devices"),
    "write_bytes": _host(
        "disk_written_bytes_total", "counter", "Bytes written.", ("device",), "block devices"
    ),
    "read_count": _host(
        "disk_reads_completed_total", "counter", "Reads completed.", ("device",), "block devices"
    ),
    "write_count": _host(
        "disk_writes_completed_total", "counter", "Writes completed.", ("device",), "block devices"
    ),
    "busy_time": _host(
        "disk_io_time_seconds_total", "counter", "Seconds spent doing I/O.", ("device",), "block devices"
    ),
}
HOST_NETWORK = {
    "bytes_recv": _host(
        "network_receive_bytes_total", "counter", "Bytes received.", ("device",), "interfaces"
    ),
    "bytes_sent": _host("network_transmit_bytes_total", "counter", "Bytes sent.", ("device",), "interfaces"),
    "packets_recv": _host(
        "network_receive_packets_total", "counter", "Packets received.", ("device",), "interfaces"
    ),
    "packets_sent": _host(
        "network_transmit_packets_total", "counter", "Packets sent.", ("device",), "interfaces"
    ),
    "errin": _host("network_receive_errs_total", "counter", "Receive errors.", ("device",), "interfaces"),
    "errout": _host("network_transmit_errs_total", "counter", "Transmit errors.", ("device",), "interfaces"),
    "dropin": _host(
        "network_receive_drop_total", "counter", "Received packets dropped.", ("device",), "interfaces"
    ),
    "dropout": _host(
        "network_transmit_drop_total", "counter", "Sent packets dropped.", ("device",), "interfaces"
    ),
}
HOST_CONTEXT_SWITCHES = _host("context_switches_total", "counter", "Context switches since boot.")
HOST_BOOT_TIME = _host("boot_time_seconds", "gauge", "Unix time the host booted.")
HOST_INFO = _host(
    "info", "gauge", "Host facts; always 1.",
    ("hostname", "os", "kernel", "cpu_model", "logical_cpus", "physical_cpus", "memory_bytes"),
)  # fmt: skip

# -- runs in progress (the process tree of each `bhubctl run` command) -------------------------
_RUN = ("run_id", "project", "target", "commit")  # the runs in progress on this host: usually 1
_RUNS = "runs in progress on the host"


def _scoped(prefix: str, labels: tuple[str, ...], card: str) -> Callable[..., MetricSpec]:
    """A maker of specs sharing a name prefix and base labels; ``extra`` labels multiply ``card``."""

    def make(name: str, type_: MetricType, help_: str, extra: tuple[str, ...] = ()) -> MetricSpec:
        cardinality = f"{card} x {'/'.join(extra)}" if extra else card
        return MetricSpec(f"{prefix}{name}", type_, help_, (*labels, *extra), cardinality)

    return make


_run = _scoped("benchhub_run_", _RUN, _RUNS)


RUN_CPU_SECONDS = _run("cpu_seconds_total", "counter", "CPU seconds the run's processes used, by mode.",
                       ("mode",))  # fmt: skip
RUN_RSS = _run("memory_rss_bytes", "gauge", "Resident memory of the run's processes now, summed.")
RUN_RSS_PEAK = _run(
    "memory_rss_peak_bytes", "gauge", "Highest summed resident memory seen so far in the run."
)
RUN_READ_BYTES = _run("io_read_bytes_total", "counter", "Bytes the run's processes read from storage.")
RUN_WRITTEN_BYTES = _run("io_written_bytes_total", "counter", "Bytes the run's processes wrote to storage.")
RUN_THREADS = _run("threads", "gauge", "Threads of the run's processes now.")
RUN_PROCESSES = _run("processes", "gauge", "Processes in the run's tree now.")
RUN_CONTEXT_SWITCHES = _run("context_switches_total", "counter",
                            "Context switches of the run's live processes, by kind.", ("kind",))  # fmt: skip
RUN_METRICS = (
    RUN_CPU_SECONDS, RUN_RSS, RUN_RSS_PEAK, RUN_READ_BYTES, RUN_WRITTEN_BYTES, RUN_THREADS,
    RUN_PROCESSES, RUN_CONTEXT_SWITCHES,
)  # fmt: skip

# -- containers (Docker / Podman API + cgroups), named after cAdvisor's container_* ---------------
_C = ("id", "name", "image")  # running containers on the host
_CS = "running containers"


_container = _scoped("benchhub_container_", _C, _CS)


CONTAINER_RUNTIME_UP = MetricSpec(
    "benchhub_container_runtime_up", "gauge", "1 if the container API answered this scrape, else 0.", (), "1"
)
CONTAINER_INFO = _container(
    "info", "gauge", "Container facts; always 1.", ("compose_project", "compose_service")
)
CONTAINER_CPU_USER = _container("cpu_user_seconds_total", "counter", "User CPU seconds of the container.")
CONTAINER_CPU_SYSTEM = _container(
    "cpu_system_seconds_total", "counter", "System CPU seconds of the container."
)
CONTAINER_CPU_USAGE = _container("cpu_usage_seconds_total", "counter", "CPU seconds of the container in all.")
CONTAINER_CFS_PERIODS = _container("cpu_cfs_periods_total", "counter", "CFS enforcement periods elapsed.")
CONTAINER_CFS_THROTTLED_PERIODS = _container(
    "cpu_cfs_throttled_periods_total", "counter", "CFS periods in which the container was throttled."
)
CONTAINER_CFS_THROTTLED_SECONDS = _container(
    "cpu_cfs_throttled_seconds_total", "counter", "Time the container was throttled."
)
CONTAINER_MEMORY_USAGE = _container(
    "memory_usage_bytes", "gauge", "Memory the cgroup uses, page cache included."
)
CONTAINER_MEMORY_WORKING_SET = _container(
    "memory_working_set_bytes", "gauge", "Memory usage minus inactive file cache (what docker stats shows)."
)
CONTAINER_MEMORY_LIMIT = _container("spec_memory_limit_bytes", "gauge", "Memory limit; 0 when there is none.")
CONTAINER_OOM_EVENTS = _container(
    "oom_events_total", "counter", "Processes the OOM killer killed in the container."
)
CONTAINER_FS_READS = _container("fs_reads_bytes_total", "counter", "Bytes read from block devices.")
CONTAINER_FS_WRITES = _container("fs_writes_bytes_total", "counter", "Bytes written to block devices.")
CONTAINER_NET_RX_BYTES = _container(
    "network_receive_bytes_total",
    "counter",
    "Bytes received in the container's network namespace.",
    ("interface",),
)
CONTAINER_NET_RX_PACKETS = _container(
    "network_receive_packets_total", "counter", "Packets received in the container's network namespace.",
    ("interface",),
)  # fmt: skip
CONTAINER_NET_TX_BYTES = _container(
    "network_transmit_bytes_total",
    "counter",
    "Bytes sent from the container's network namespace.",
    ("interface",),
)
CONTAINER_NET_TX_PACKETS = _container(
    "network_transmit_packets_total", "counter", "Packets sent from the container's network namespace.",
    ("interface",),
)  # fmt: skip
CONTAINER_PROCESSES = _container("processes", "gauge", "Processes in the container now.")
CONTAINER_START_TIME = _container("start_time_seconds", "gauge", "Unix time the container started.")
CONTAINER_METRICS = (
    CONTAINER_INFO, CONTAINER_CPU_USER, CONTAINER_CPU_SYSTEM, CONTAINER_CPU_USAGE, CONTAINER_CFS_PERIODS,
    CONTAINER_CFS_THROTTLED_PERIODS, CONTAINER_CFS_THROTTLED_SECONDS, CONTAINER_MEMORY_USAGE,
    CONTAINER_MEMORY_WORKING_SET, CONTAINER_MEMORY_LIMIT, CONTAINER_OOM_EVENTS, CONTAINER_FS_READS,
    CONTAINER_FS_WRITES, CONTAINER_NET_RX_BYTES, CONTAINER_NET_RX_PACKETS, CONTAINER_NET_TX_BYTES,
    CONTAINER_NET_TX_PACKETS, CONTAINER_PROCESSES, CONTAINER_START_TIME,
)  # fmt: skip

CATALOG: tuple[MetricSpec, ...] = (
    BENCHMARK_VALUE,
    BENCHMARK_ITERATIONS,
    BENCHMARK_TREND,
    BENCHMARK_CHANGE,
    BENCHMARK_TREND_DAILY,
    BENCHMARK_CHANGE_DAILY,
    BRANCH_RUN,
    RUN_INFO,
    AGENT_INFO,
    COLLECTOR_DURATION,
    COLLECTOR_SUCCESS,
    CENTRAL_REQUESTS,
    CENTRAL_REQUEST_DURATION,
    BACKUP_LAST_SUCCESS,
    BACKUP_LAST_DURATION,
    BACKUP_LAST_BYTES,
    BACKUP_FAILURES,
    REGRESSIONS_OPEN,
    CHANGE_POINT,
    HOST_CPU_SECONDS,
    HOST_LOAD1,
    HOST_LOAD5,
    HOST_LOAD15,
    *HOST_MEMORY.values(),
    *HOST_FILESYSTEM.values(),
    *HOST_DISK.values(),
    *HOST_NETWORK.values(),
    HOST_CONTEXT_SWITCHES,
    HOST_BOOT_TIME,
    HOST_INFO,
    *RUN_METRICS,
    CONTAINER_RUNTIME_UP,
    *CONTAINER_METRICS,
)

# -- not ours: metrics of vmagent and vmalert that dashboards and rules read ----------------------
# (listed so that every name a dashboard, rule or scrape config uses is in this file; a test
# checks these against a real vmagent's /metrics)
EXTERNAL: dict[str, MetricSpec] = {
    "up": MetricSpec("up", "gauge", "vmagent: 1 if the last scrape worked.", ("job", "instance"), "targets"),
    "scrapes": MetricSpec("vm_promscrape_scrapes_total", "counter", "vmagent: scrapes done.", (), "1"),
    "scrapes_failed": MetricSpec(
        "vm_promscrape_scrapes_failed_total", "counter", "vmagent: scrapes that failed.", (), "1"
    ),
    "pending_bytes": MetricSpec(
        "vmagent_remotewrite_pending_data_bytes", "gauge",
        "vmagent: bytes buffered for remote write (disk and memory).", ("path", "url"), "remote write URLs",
    ),
    "rows_sent": MetricSpec(
        "vmagent_remotewrite_rows_pushed_after_relabel_total", "counter",
        "vmagent: rows pushed to remote write.", ("path", "url"), "remote write URLs",
    ),
    "alerts": MetricSpec(
        "ALERTS", "gauge", "vmalert: 1 per pending or firing alert.", ("alertname", "alertstate"), "alerts",
    ),
}  # fmt: skip
