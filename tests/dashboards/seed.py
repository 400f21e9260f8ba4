"""Seeded history for the dashboard and alert tests: every catalog family, over the last hours.

Series carry the labels vmagent gives them in the stack (job, instance, node, org) and the
values they have in real life: counters only go up, one benchmark sample per run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from central import series
from central.markers import marker_text
from central.schemas import ResultIn, RunPublic, RunState
from central.settings import CentralSettings
from exporter import metrics as m
from exporter.exposition import escape_label_value

STEP = 15  # seconds between scrapes
HOURS = 3
SCRAPE = {"job": "benchhub-agent", "instance": "127.0.0.1:9465", "node": "node-1", "org": "acme"}
LABEL_VALUES: dict[str, list[str]] = {
    "cpu": ["0", "1"], "mode": ["idle", "user", "system", "iowait"], "device": ["sda", "eth0"],
    "mountpoint": ["/"], "fstype": ["ext4"], "collector": ["host", "benchmark", "runs", "containers"],
    "method": ["POST"], "route": ["/api/v1/runs"], "status": ["201", "500"],
    "id": ["c0ffee"], "name": ["web"], "image": ["busybox"], "kind": ["voluntary"],
    "hostname": ["bench-1"], "os": ["Linux"], "kernel": ["6.1"], "cpu_model": ["x86"],
    "logical_cpus": ["2"], "physical_cpus": ["1"], "memory_bytes": ["8589934592"],
    "version": ["1"], "host": ["bench-1"], "compose_project": ["shop"], "compose_service": ["web"],
    "run_id": ["r11"], "project": ["shop"], "target": ["bench"], "commit": ["c11"],
    "job": ["vmagent"], "path": ["/buffer"], "url": ["1:secret-url"],
}  # fmt: skip
SKIP = {m.BENCHMARK_VALUE.name, m.BENCHMARK_ITERATIONS.name, m.BENCHMARK_TREND.name, m.BENCHMARK_CHANGE.name,
        m.BENCHMARK_TREND_DAILY.name, m.BENCHMARK_CHANGE_DAILY.name,
        m.RUN_INFO.name, m.CHANGE_POINT.name, "ALERTS"}  # fmt: skip
WINDOWS = CentralSettings.model_fields["baseline_runs"].default


@dataclass(frozen=True)
class Run:
    run_id: str
    commit: str
    end: int  # unix seconds
    values: dict[tuple[str, str], float]  # (benchmark, measure) -> value in base units


def runs(now: int, count: int = 12, newest: dict[tuple[str, str], float] | None = None) -> list[Run]:
    """``count`` runs of two benchmarks, 10 minutes apart, the newest ending a minute ago.

    Values wander by at most 3% around a fixed level; ``newest`` maps (benchmark, measure) to
    a factor of its level in the newest run (1.25: 25% larger).
    """
    base = {("BenchmarkA", "time"): 1.5e-6, ("BenchmarkB", "time"): 4.2e-5,
            ("BenchmarkA", "alloc_bytes"): 512.0, ("BenchmarkB", "throughput"): 3.0e8}  # fmt: skip
    out = []
    for i in range(count):
        wobble = 1 + 0.03 * ((i * 7) % 5 - 2) / 2  # 0.97 .. 1.03, deterministic
        values = {key: level * wobble for key, level in base.items()}
        if newest and i == count - 1:
            values |= {key: base[key] * factor for key, factor in newest.items()}
        out.append(Run(f"r{i:02d}", f"c{i:02d}", now - 60 - (count - 1 - i) * 600, values))
    return out


def _line(name: str, labels: dict[str, str], value: float, ts: int) -> str:
    text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())
    return f"{name}{{{text}}} {value:.9g} {ts * 1000}\n"


UNITS = {"time": "seconds", "alloc_bytes": "bytes", "throughput": "bytes_per_second"}


def run_public(run: Run, org: str = "acme", branch: str = "main", target: str = "bench") -> RunPublic:
    start, end = (datetime.fromtimestamp(t, UTC) for t in (run.end - 30, run.end))
    return RunPublic(id=run.run_id, org=org, project="shop", target=target, commit=run.commit, branch=branch,
                     dirty=False, host="bench-1", parser="go", labels={}, state=RunState.finished, exit_code=0,
                     message=None, raw_output_ref=None, created_at=start, started_at=start, finished_at=end)  # fmt: skip


def benchmark_lines(history: list[Run], org: str = "acme", branch: str = "main") -> list[str]:
    """The samples central writes for these runs (central.series, central.markers): per-run,
    trend and change series, and the run markers."""
    lines: list[str] = []
    before: dict[tuple[str, str, str, str, str], list[float]] = {}
    for run in history:
        results = [ResultIn(benchmark=bench, measure=measure, unit=UNITS[measure], value=value, iterations=1000,
                            labels={"procs": "8"}) for (bench, measure), value in run.values.items()]  # fmt: skip
        public = run_public(run, org, branch)
        for text, _ in series.batches(public, results, prior=before, windows=WINDOWS):
            lines.extend(text.splitlines(keepends=True))
        lines.extend(marker_text(public).splitlines(keepends=True))
        for (bench, measure), value in run.values.items():
            before.setdefault((bench, measure, "8", "", UNITS[measure]), []).insert(0, value)
    newest = history[-1]  # central marked change points there (the trends dashboard annotates them)
    for bench, measure in newest.values:
        point = {"org": org, "project": "shop", "target": "bench", "branch": branch, "benchmark": bench,
                 "measure": measure, "commit": newest.commit, "kind": "regression"}  # fmt: skip
        lines.append(_line(m.CHANGE_POINT.name, point, 0.12, newest.end))
    return lines


def catalog_lines(now: int) -> list[str]:
    """Every other family of the catalog (and vmagent's), one sample per STEP for HOURS."""
    specs = [s for s in (*m.CATALOG, *m.EXTERNAL.values()) if s.name not in SKIP]
    lines = []
    for spec in specs:
        names = [spec.name]
        if spec.type == "histogram":
            names = [f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count"]
        combos = itertools.product(*(LABEL_VALUES.get(label, ["x"]) for label in spec.labels))
        for n_combo, combo in enumerate(combos):
            labels = {**SCRAPE, **dict(zip(spec.labels, combo, strict=True))}
            for name in names:
                for le in ["0.005", "0.05", "0.5", "+Inf"] if name.endswith("_bucket") else [None]:
                    full = {**labels, "le": le} if le else labels
                    for step in range(0, HOURS * 3600, STEP):
                        ts = now - HOURS * 3600 + step
                        if spec.type in ("counter", "histogram"):
                            value = float(
                                step * (1 + n_combo) * (float(le) if le and le != "+Inf" else 1.0) + 1
                            )
                        elif spec.name == m.COLLECTOR_SUCCESS.name:
                            value = 0.0 if combo == ("containers",) else 1.0
                        elif spec.name.endswith("_info") or spec.name in ("up",):
                            value = 1.0
                        else:
                            value = 1000.0 + (step % 600) + n_combo
                        lines.append(_line(name, full, value, ts))
    return lines
