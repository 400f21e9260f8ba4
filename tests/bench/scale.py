"""make bench-scale: every dashboard and rule query on a year-like history, old layout vs new.

Seeds two real VictoriaMetrics through their import API with B benchmarks x 2 measures x R
runs of one branch, the runs spread over 30 days (``--days``: a year of runs against a month
of as many runs a month shows what history costs, the R axis what runs a month cost):

- ``v1``: the layout before issue 19 (per-run series only), queried by the dashboards and
  rules of that time (tests/bench/layout_v1: the trends and run-detail JSON of b1ea888, the
  median-of-10 recording rules of 0edf850^);
- ``v2``: what central writes now (central.series: per-run, trend, change and branch-run
  series, run markers), queried by today's dashboards and rules;
- ``v2r``: the same server as v2, queried by the dashboards before they asked at the newest
  run (tests/bench/layout_v2_range: 130d45f's trends board, every question over the whole
  range, and 9ff65a0's run board, its run list over the whole range);
- ``v2m``: the same server, queried by the trends board before it read the daily copies
  (tests/bench/layout_v2_month: 03e97e1's, its questions at the newest run of the trend and
  change series, whose block holds the month): the anchors of those changes, measured in the
  same run, tries interleaved.

The history ends a minute before this month began and each of its months is merged into one
part before any query (merge_months), so the numbers do not depend on the day of the month
the bench runs on, nor on how far VictoriaMetrics' merges had got: a question at the newest
run decodes the newest block of each series, which then holds the whole month, the worst
case (the bench prints what the table's "value" question decoded).

For each R it prints, side by side, the median and max latency of every variable, panel,
annotation and rule query (as Grafana sends them on a first load: the history's range, 720
points, or a panel's "Max data points" where it sets them, as the trends graphs do: 250, a
point every 3 h over a month; ``nocache=1``), the series count and the disk size; then the
graphs of today's trends board again at each step Grafana would ask for a month were their
points not capped (GRAPH_STEPS: 720 points is a panel about 700 px wide, a full-width one gets
20 min), with the points each answered: a graph draws a point per run up to one per step.
``--benchmarks 50 --runs 20`` is the CI smoke run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

from central import series
from central.markers import marker_text
from central.schemas import RunPublic, RunState
from central.settings import CentralSettings
from dashboards.__main__ import JSON_DIR, rules_text
from exporter import metrics as m
from exporter.units import to_base_unit
from tests.dashboards.promql import Outcome, Runner, run_dashboard
from tests.servers import victoria_metrics

DAYS = 30  # the history's span and the dashboards' range (--days)
# Both servers answer queries over millions of series instead of refusing them (the defaults,
# 300,000 series a query and 30,000 from the series API, refuse v1's queries from R = 240 on):
# the layouts' costs are compared, not the limits.
LIMITS = (
    "-search.maxUniqueTimeseries=50000000",
    "-search.maxSeries=50000000",
    "-search.maxQueryDuration=300s",
)
BOARDS = ("benchhub-trends", "benchhub-run")
V1 = Path(__file__).with_name("layout_v1")
V2_RANGE = Path(__file__).with_name("layout_v2_range")
V2_MONTH = Path(__file__).with_name("layout_v2_month")
WINDOWS = CentralSettings.model_fields["baseline_runs"].default
MEASURES = (("time", "ns", 1.0), ("alloc_bytes", "B", 64.0))
# The median-of-10 recording rules of the v1 layout (provisioning/vmalert/rules.yml at 0edf850^,
# watched branches main|master): what vmalert evaluated every minute.
_V1_KEY = "org, project, target, branch, benchmark, measure, unit, procs"
_V1_SERIES = 'benchhub_benchmark_value{branch=~"main|master"}[30d]'
V1_RULES = {
    "benchhub:benchmark_latest:value": (
        f"sum by ({_V1_KEY}) (last_over_time({_V1_SERIES}) and on(run_id, {_V1_KEY}) "
        f"topk by ({_V1_KEY}) (1, tlast_over_time({_V1_SERIES})))"
    ),
    "benchhub:benchmark_baseline:median": (
        f"median by ({_V1_KEY}) (last_over_time({_V1_SERIES}) and on(run_id, {_V1_KEY}) "
        f"(topk by ({_V1_KEY}) (10 + 1, tlast_over_time({_V1_SERIES})) unless on(run_id, {_V1_KEY}) "
        f"topk by ({_V1_KEY}) (1, tlast_over_time({_V1_SERIES}))))"
    ),
}


@dataclass
class Measured:
    """What central.series needs of a result (a stored row, without the database)."""

    benchmark: str
    measure: str
    unit: str
    value: float | None
    iterations: int | None
    labels: dict[str, str] = field(default_factory=dict)


def history(
    benchmarks: int, runs: int, now: int, seed: int = 19, days: int = DAYS
) -> Iterator[tuple[RunPublic, list[Measured]]]:
    """``runs`` runs of ``benchmarks`` Go-like benchmarks (time and allocations), 2% noise."""
    rng = np.random.default_rng(seed)
    levels = rng.lognormal(8, 2, size=(benchmarks, len(MEASURES)))
    spacing = days * 86400 / runs
    for r in range(runs):
        end = now - days * 86400 + (r + 1) * spacing - 60
        start, finish = (datetime.fromtimestamp(t, UTC) for t in (end - 30, end))
        run = RunPublic(id=f"run-{r:05d}", org="acme", project="shop", target="bench", commit=f"{r:040x}",
                        branch="main", dirty=False, host=f"ci-{r % 3}", parser="go", labels={},
                        state=RunState.finished, exit_code=0, message=None, raw_output_ref=None,
                        created_at=start, started_at=start, finished_at=finish)  # fmt: skip
        noise = rng.normal(1, 0.02, size=levels.shape)
        results = [
            Measured(
                f"BenchmarkCase{b:04d}",
                measure,
                unit,
                float(levels[b, i] * noise[b, i] * scale),
                1000,
                {"procs": "2"},
            )
            for b in range(benchmarks)
            for i, (measure, unit, scale) in enumerate(MEASURES)
        ]
        yield run, results


def seed_both(
    v1: str, v2: str, benchmarks: int, runs: int, now: int, layouts: tuple[str, ...] = ("v1", "v2"),
    days: int = DAYS,
) -> None:  # fmt: skip
    """Write the history to both: v2 all that central writes, v1 the per-run part of it (only
    the ``layouts`` asked for)."""
    prior: dict[tuple[str, str, str, str, str], list[float]] = {}
    kept = {m.BENCHMARK_TREND.name, m.BENCHMARK_CHANGE.name, m.BENCHMARK_TREND_DAILY.name,
            m.BENCHMARK_CHANGE_DAILY.name}  # fmt: skip
    pending: dict[str, list[str]] = {v1: [], v2: []}
    with httpx.Client(timeout=300) as http, ThreadPoolExecutor(2) as pool:

        def flush(force: bool = False) -> None:
            jobs = []
            for url, lines in pending.items():
                if lines and (force or len(lines) >= 200_000):
                    body = "".join(lines).encode()
                    jobs.append(pool.submit(http.post, f"{url}/api/v1/import/prometheus", content=body))
                    pending[url] = []
            for job in jobs:
                job.result().raise_for_status()

        for r, (run, results) in enumerate(history(benchmarks, runs, now, days=days)):
            for text, _ in series.batches(run, results, prior=prior, windows=WINDOWS):
                for line in text.splitlines(keepends=True):
                    pending[v2].append(line)
                    if line.split("{", 1)[0] not in kept:
                        pending[v1].append(line)
            markers = marker_text(run)
            pending[v1].append(markers)
            pending[v2].append(markers)
            if "v1" not in layouts:
                pending[v1] = []
            for result in results:
                base, unit = to_base_unit(result.value or 0.0, result.unit)
                values = prior.setdefault((result.benchmark, result.measure, "2", "", unit), [])
                values.insert(0, base)
                del values[max(WINDOWS) :]
            flush()
            if (r + 1) % max(1, runs // 10) == 0:
                print(f"  seeded {r + 1}/{runs} runs", file=sys.stderr, flush=True)
        flush(force=True)
        for url in (v1, v2) if "v1" in layouts else (v2,):
            http.get(f"{url}/internal/force_flush").raise_for_status()
            wait_searchable(http, url, f'{m.BENCHMARK_VALUE.name}{{run_id="run-{runs - 1:05d}"}}', now)


def wait_searchable(http: httpx.Client, url: str, selector: str, now: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # around the newest run: start=0 asks VictoriaMetrics' series API for its last day only
        span = {"match[]": selector, "start": now - 3600, "end": now + 60}
        found = http.get(f"{url}/api/v1/series", params=span).json()
        if found["data"]:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{selector} not searchable in {url} 120 s after the import")


def active_merges(url: str) -> int:
    """The merges VictoriaMetrics is running now, of data and of index (its own /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return round(sum(float(n) for n in re.findall(r"^vm_active_merges\{[^}]*\} (\S+)$", text, re.M)))


def wait_merged(urls: list[str], limit: float = 1800) -> None:
    """Until no server has run a merge for 3 s in a row: a merge in the background would land on
    whichever queries run first, and a month merged halfway decodes smaller blocks (with a
    second of quiet CPU as the sign, one try decoded 29 samples a benchmark instead of 960)."""
    started = time.monotonic()
    quiet, told = 0, 0.0
    while quiet < 3:
        busy = sum(active_merges(url) for url in urls)
        quiet = 0 if busy else quiet + 1
        waited = time.monotonic() - started
        if waited > limit:
            raise RuntimeError(f"VictoriaMetrics still merging after {limit:.0f} s ({busy} merges)")
        if busy and waited - told >= 30:
            print(f"  merging: {busy} merges running after {waited:.0f} s", file=sys.stderr, flush=True)
            told = waited
        time.sleep(1)


def storage_parts(url: str) -> tuple[int, int]:
    """(parts, partitions) of VictoriaMetrics' storage, from its own /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    parts = re.findall(r'^vm_parts\{type="storage/(?:big|small)"\} (\S+)$', text, re.M)
    partitions = re.search(r'^vm_references\{type="storage", name="partitions"\} (\S+)$', text, re.M)
    return round(sum(float(n) for n in parts)), round(float(partitions.group(1))) if partitions else 0


def merge_months(urls: list[str], now: int, days: int = DAYS, rounds: int = 6) -> None:
    """Merge each month partition the history spans into one part: the worst case for a question
    at the newest run, whose block then holds the month (VictoriaMetrics 1.79 leaves a past
    month in the parts its background merges made: its final merge, -finalMergeDelay, is off
    by default).

    /internal/force_merge returns at once and merges in the background, 15 parts at a time
    into one each (1.79's mergePartsOptimal): one call can leave a month in several parts (it
    once left the last 16 of 960 runs in a part of their own, and the newest-run questions
    decoded 16 samples a benchmark instead of 960). So: force-merge, wait until no merge
    runs, and again while a server holds more parts than partitions."""
    months = {
        datetime.fromtimestamp(t, UTC).strftime("%Y_%m") for t in range(now - days * 86400, now + 1, 86400)
    }
    left = list(urls)
    with httpx.Client(timeout=1800) as http:
        for attempt in range(1, rounds + 1):
            for url in left:
                for month in sorted(months):
                    http.get(
                        f"{url}/internal/force_merge", params={"partition_prefix": month}
                    ).raise_for_status()
            time.sleep(1)  # the merges start in a goroutine of their own
            wait_merged(left)
            counts = {url: storage_parts(url) for url in left}
            left = [url for url, (parts, partitions) in counts.items() if parts > partitions]
            if not left:
                return
            told = ", ".join(
                f"{parts} parts in {partitions} partitions" for parts, partitions in counts.values()
            )
            print(f"  force merge {attempt} left {told}: merging again", file=sys.stderr, flush=True)
    raise RuntimeError(f"VictoriaMetrics still holds more parts than partitions after {rounds} force merges")


def decoded(url: str, expr: str, now: int) -> str:
    """What VictoriaMetrics read for an instant query (its trace): series, blocks, samples."""
    params = {"query": expr, "time": now, "trace": "1", "nocache": "1"}
    trace = json.dumps(httpx.post(f"{url}/api/v1/query", data=params, timeout=120).json().get("trace", {}))
    fetched = re.findall(r"fetch unique series=(\d+), blocks=(\d+), samples=(\d+)", trace)
    return (
        ", ".join(f"{int(n):,} series, {int(b):,} blocks, {int(x):,} samples" for n, b, x in fetched) or "-"
    )


def series_count(url: str) -> int:
    body = httpx.get(f"{url}/api/v1/series/count", timeout=120).json()
    return int(body["data"][0])


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _beside(old: list[dict[str, Any]], today: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An older layout's boards, set up to sit beside today's: "All" as today's all value where
    today's variable of that name has one (the layouts are compared, not the all value; the
    picks, largest and moved, have none: their values are what they found), and today's panel
    titles, "Max data points" and annotation names (the same panel at the same step, side by
    side)."""

    def queried(board: dict[str, Any]) -> list[dict[str, Any]]:
        return [a for a in board.get("annotations", {}).get("list", []) if a.get("expr")]

    for board, new in zip(old, today, strict=True):
        alls = {var["name"]: var.get("allValue") for var in new["templating"]["list"]}
        for var in board["templating"]["list"]:
            if var.get("multi") and alls.get(var["name"]):
                var["allValue"] = alls[var["name"]]
        for panel, renamed in zip(board["panels"], new["panels"], strict=True):
            panel["title"] = renamed["title"]
            if renamed.get("maxDataPoints"):
                panel["maxDataPoints"] = renamed["maxDataPoints"]
        for ann, named in zip(queried(board), queried(new), strict=True):
            ann["name"] = named["name"]
    return old


def queries(layout: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The layout's dashboards (JSON models) and its rules (name -> expression)."""
    boards = [json.loads((JSON_DIR / f"{uid}.json").read_text()) for uid in BOARDS]
    if layout == "v1":
        return _beside([json.loads((V1 / f"{uid}.json").read_text()) for uid in BOARDS], boards), V1_RULES
    if layout in ("v2r", "v2m"):  # the boards that asked over the whole range, or of the month's block
        older = V2_RANGE if layout == "v2r" else V2_MONTH
        # a board the layout does not hold is today's (v2m's run board is)
        paths = [older / f"{uid}.json" if (older / f"{uid}.json").exists() else JSON_DIR / f"{uid}.json"
                 for uid in BOARDS]  # fmt: skip
        boards = _beside([json.loads(path.read_text()) for path in paths], boards)
    rules = {
        rule.get("alert") or rule["record"]: rule["expr"]
        for group in yaml.safe_load(rules_text())["groups"]
        for rule in group["rules"]
    }
    return boards, rules


def measure(
    servers: dict[str, str], reps: int, commit: str, now: int, days: int = DAYS
) -> dict[str, dict[str, list[Outcome]]]:
    """Every query of each layout (name -> its server), ``reps`` times, the layouts' tries
    interleaved. A board, rule or lookup of a layout with a query over 5 s in the first try is
    not tried again (v1's trends board and rules take seconds to minutes); its other parts are
    (v1's run board: what the new layout must not make slower)."""
    found: dict[str, dict[str, list[Outcome]]] = {layout: {} for layout in servers}
    slow: dict[str, set[str]] = {layout: set() for layout in servers}
    for rep in range(reps):
        for layout, url in servers.items():
            for where, outcomes in measure_once(url, layout, commit, now, days, slow[layout]).items():
                found[layout].setdefault(where, []).extend(outcomes)
            if rep == 0:
                slow[layout] = {
                    part(w) for w, tries in found[layout].items() if max(o.seconds for o in tries) > 5
                }
    return found


def part(where: str) -> str:
    """What a query belongs to, as measure_once skips it: its board's uid, or the rule or lookup."""
    return where.split(" ", 1)[0] if where.startswith("benchhub-") else where


def measure_once(
    url: str,
    layout: str,
    commit: str,
    now: int,
    days: int = DAYS,
    skip: set[str] | frozenset[str] = frozenset(),
) -> dict[str, list[Outcome]]:
    """Every query of the layout once, but those of the boards, rules and lookup in ``skip``."""
    boards, rules = queries(layout)
    # a point an hour over 30 days: 720 points, as over longer ranges
    runner = Runner(url, range_seconds=days * 86400, step=days * 120, timeout=120, nocache=True, now=now)
    lookup = f'last_over_time({m.BENCHMARK_VALUE.name}{{commit="{commit}"}}[{days}d])'
    try:
        outcomes: list[Outcome] = []
        for board in boards:
            if board["uid"] not in skip:
                _, done = run_dashboard(runner, board)
                outcomes += [replace(o, where=f"{board['uid']} {o.where}") for o in done]
        for where, expr in [*((f"rule {name}", expr) for name, expr in rules.items()),
                            ("ad hoc: a commit's results", lookup)]:  # fmt: skip
            if where not in skip:
                outcomes.append(runner.query(where, expr, instant=True))
    finally:
        runner.close()
    found: dict[str, list[Outcome]] = {}
    for o in outcomes:
        found.setdefault(o.where, []).append(o)
    return found


# Grafana's own steps over 30 days (range / the panel's width in px, rounded as its
# roundInterval does): 20 min for a full-width panel on a 1,920-px screen (as the trends
# board's graphs are), 30 min at ~1,000 px, 1 h at ~700 (the bench's step), 2 h and 3 h at
# ~360 and ~240 px or a panel's "Max data points" set that low. Over --days, in proportion.
GRAPH_STEPS = (1200, 1800, 3600, 7200, 10800)


def graph_steps(days: int = DAYS) -> list[int]:
    return [step * days // DAYS for step in GRAPH_STEPS]


def graphs(found: dict[str, list[Outcome]]) -> dict[str, tuple[str, int]]:
    """The trends board's graphs (its timeseries panels' queries) as measured: where -> (expr,
    the step it was asked at)."""
    board = json.loads((JSON_DIR / "benchhub-trends.json").read_text())
    wheres = {f"benchhub-trends panel {p['title']!r} {t['refId']}"
              for p in board["panels"] if p["type"] == "timeseries" for t in p["targets"]}  # fmt: skip
    return {where: (tries[0].expr, tries[0].step) for where, tries in found.items() if where in wheres}


def by_step(
    url: str, exprs: dict[str, tuple[str, int]], reps: int, now: int, days: int = DAYS
) -> dict[tuple[str, int], list[Outcome]]:
    """Each graph at each of graph_steps(days), its window ($__interval) set to the step as
    Grafana sets it: (where, step) -> its tries (each with the points answered), interleaved."""
    found: dict[tuple[str, int], list[Outcome]] = {}
    runners = {s: Runner(url, range_seconds=days * 86400, step=s, timeout=120, nocache=True, now=now)
               for s in graph_steps(days)}  # fmt: skip
    try:
        for _ in range(reps):
            for step, runner in runners.items():
                for where, (expr, measured) in exprs.items():
                    asked = expr.replace(f"[{measured}s]", f"[{step}s]")
                    found.setdefault((where, step), []).append(runner.query(where, asked, instant=False))
    finally:
        for runner in runners.values():
            runner.close()
    return found


def cell(outcomes: list[Outcome] | None) -> str:
    if not outcomes:
        return "-"
    if outcomes[0].error:
        return "error: " + outcomes[0].error.split(":")[-1].strip()[:40]
    times = [o.seconds * 1000 for o in outcomes]
    return f"{statistics.median(times):8.1f} {max(times):8.1f}"


def short(where: str) -> str:
    """A query's name in 80 columns: a long panel title is cut in its middle, the target kept."""
    return where if len(where) <= 80 else where[:50] + "..." + where[-27:]


COLUMNS = {"v1": "v1 (per-run only)", "v2r": "v2, range questions", "v2m": "v2, month's block",
           "v2": "v2 (daily copies)"}  # fmt: skip


def report(r: int, found: dict[str, dict[str, list[Outcome]]], sizes: dict[str, tuple[int, int]]) -> None:
    shown = [layout for layout in COLUMNS if layout in found]
    print(f"\n## R = {r} runs (latency ms: median max; {len(next(iter(found['v2'].values())))} tries)")
    print(f"{'query':80} " + " ".join(f"{COLUMNS[layout]:>20}" for layout in shown))
    for where in sorted(set().union(*(found[layout] for layout in shown))):
        print(f"{short(where):80} " + " ".join(f"{cell(found[layout].get(where)):>20}" for layout in shown))
    for layout, (count, size) in sizes.items():
        print(f"{layout}: {count:,} series, {size / 1e6:,.1f} MB on disk")


def report_steps(r: int, steps: dict[tuple[str, int], list[Outcome]], days: int = DAYS) -> None:
    def named(step: int) -> str:
        return f"{step / 60:g} min" if step < 3600 else f"{step / 3600:g} h"

    print(
        f"\n## R = {r} runs: the graphs at Grafana's steps by panel width, without their Max data points "
        "(v2; points answered, latency ms: median max)"
    )
    print(f"{'graph':80} " + " ".join(f"{'step ' + named(step):>24}" for step in graph_steps(days)))
    for where in sorted({where for where, _ in steps}):
        tries = [steps[(where, step)] for step in graph_steps(days)]
        print(f"{short(where):80} " + " ".join(f"{t[0].points:>6} {cell(t):>17}" for t in tries))


def main(argv: list[str] | None = None) -> dict[int, dict[str, dict[str, list[Outcome]]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=1000)
    parser.add_argument("--runs", default="60,240,960", help="comma-separated R values")
    parser.add_argument("--days", type=int, default=DAYS, help="the runs' span, and the dashboards' range")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--layouts", default="v1,v2r,v2m,v2", help="v2r,v2m,v2: today's layout without the slow v1"
    )
    args = parser.parse_args(argv)
    layouts = tuple(args.layouts.split(","))
    if "v2" not in layouts or not set(layouts) <= set(COLUMNS):
        parser.error(f"--layouts: some of {', '.join(COLUMNS)}, v2 among them")
    print(
        f"# make bench-scale: {args.benchmarks} benchmarks x {len(MEASURES)} measures, runs over {args.days} days"
    )
    every: dict[int, dict[str, dict[str, list[Outcome]]]] = {}
    for r in (int(x) for x in args.runs.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "v1").mkdir()
            (root / "v2").mkdir()
            with victoria_metrics(root / "v1", *LIMITS) as v1, victoria_metrics(root / "v2", *LIMITS) as v2:
                month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                now = int(month.timestamp()) - 60
                started = time.monotonic()
                seed_both(v1, v2, args.benchmarks, r, now, layouts, args.days)
                print(f"  seeded R={r} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
                used = [v1, v2] if "v1" in layouts else [v2]
                wait_merged(used)
                merge_months(used, now, args.days)
                commit = f"{r // 2:040x}"
                servers = {"v1": v1, "v2r": v2, "v2m": v2, "v2": v2}
                chosen = {layout: servers[layout] for layout in COLUMNS if layout in layouts}
                found = measure(chosen, args.reps, commit, now, args.days)
                steps = by_step(v2, graphs(found["v2"]), args.reps, now, args.days)
                sizes = {layout: (series_count(url), disk_bytes(root / layout / "vm-data"))
                         for layout, url in (("v1", v1), ("v2", v2)) if layout in layouts}  # fmt: skip
                latest = next(w for w in found["v2"] if w.endswith(" latest"))
                reads = {layout: decoded(servers[layout], found[layout][latest][0].expr, now)
                         for layout in chosen if latest in found[layout]}  # fmt: skip
            report(r, found, sizes)
            report_steps(r, steps, args.days)
            for layout, read in reads.items():
                print(f"{layout}: the table's latest question decoded {read}")
            every[r] = found
    return every


if __name__ == "__main__":
    main()
