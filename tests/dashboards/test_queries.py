"""The dashboards' questions answered right on the trend layout, against a real VictoriaMetrics:
the newest run, latest, previous, change against both, the baseline of N runs, and a commit's
own results."""

from __future__ import annotations

import itertools
import json
import re
import statistics
import time

import httpx
import pytest

from dashboards import queries as q
from tests.dashboards import seed
from tests.dashboards.conftest import load
from tests.dashboards.promql import annotation_events

SELECTOR = 'org="acme",project="shop",branch="main",target="bench"'


def instant(vm: str, expr: str) -> dict[tuple[str, str], float]:
    body = httpx.get(f"{vm}/api/v1/query", params={"query": expr}, timeout=30).json()
    assert body["status"] == "success", body
    found = {
        (r["metric"]["benchmark"], r["metric"]["measure"]): float(r["value"][1])
        for r in body["data"]["result"]
    }
    assert len(found) == len(body["data"]["result"]), "one answer per benchmark and measure"
    return found


def newest_run(vm: str, selector: str) -> str:
    """The dashboard's hidden variable: when the newest run ended, as Grafana reads it."""
    body = httpx.get(f"{vm}/api/v1/query", params={"query": q.newest_run(selector, "3h")}, timeout=30).json()
    (only,) = body["data"]["result"]
    return str(only["value"][1])


def own(prefix: str, history: list[seed.Run]) -> list[seed.Run]:
    """The runs under run ids and commits of their own: the session's VictoriaMetrics is shared
    with the other tests, whose commit lookups must find only their own runs."""
    return [seed.Run(f"{prefix}-{r.run_id}", f"{prefix}-{r.commit}", r.end, r.values) for r in history]


def test_latest_previous_and_baseline_are_the_runs_values(seeded_vm: str) -> None:
    history = seed.runs(0)  # the values do not depend on the time the fixture seeded them at
    newest, before = history[-1].values, history[-2].values
    at = newest_run(seeded_vm, SELECTOR)
    assert instant(seeded_vm, q.latest(SELECTOR, at)) == pytest.approx(newest)
    assert instant(seeded_vm, q.previous(SELECTOR, at)) == pytest.approx(before)
    assert instant(seeded_vm, q.change_vs_previous(SELECTOR, at)) == pytest.approx(
        {k: newest[k] / before[k] - 1 for k in newest}
    )
    for runs in (1, 5, 10):
        median = {k: statistics.median(r.values[k] for r in history[-1 - runs : -1]) for k in newest}
        assert instant(seeded_vm, q.baseline(SELECTOR, at, str(runs))) == pytest.approx(median)
        assert instant(seeded_vm, q.change_vs_baseline(SELECTOR, at, str(runs))) == pytest.approx(
            {k: newest[k] / median[k] - 1 for k in newest}
        )
    # the first run of a branch has no "previous": nothing, not a division by zero
    zeta = SELECTOR.replace("acme", "zeta")
    assert instant(seeded_vm, q.change_vs_previous(zeta, newest_run(seeded_vm, zeta))) == {}
    # no run in the range: 0, and the questions at 0 find nothing instead of failing
    none = SELECTOR.replace("acme", "nobody")
    assert newest_run(seeded_vm, none) == "0"
    assert instant(seeded_vm, q.latest(none, "0")) == {}


def test_the_graphs_draw_the_largest_and_the_most_moved_in_the_newest_run(seeded_vm: str) -> None:
    # an org of its own, whose newest run moved two benchmarks apart (the shared history moves
    # all of them alike)
    moves = {("BenchmarkA", "time"): 1.25, ("BenchmarkB", "time"): 0.9}
    history = own("k", seed.runs(int(time.time()), newest=moves))
    load(seeded_vm, seed.benchmark_lines(history, org="kappa"))
    selector = SELECTOR.replace("acme", "kappa")
    at, newest = newest_run(seeded_vm, selector), history[-1].values
    median = {k: statistics.median(r.values[k] for r in history[-6:-1]) for k in newest}
    for top in (1, 2):
        largest = sorted(newest, key=newest.__getitem__, reverse=True)[:top]
        assert set(instant(seeded_vm, q.largest(selector, at, str(top)))) == set(largest)
        moved = sorted(newest, key=lambda k: abs(newest[k] / median[k] - 1), reverse=True)[:top]
        assert set(instant(seeded_vm, q.moved_most(selector, at, "5", str(top)))) == set(moved)
    assert set(moved) == set(moves)


def test_the_newest_run_is_read_alone_whatever_the_runs_before(seeded_vm: str) -> None:
    """The table's questions process at most two samples a benchmark (VictoriaMetrics' own trace
    counts them), where the range's last sample processed every run's; and the table lists what
    the newest run measured, not an older run's value of a benchmark it dropped."""
    history = own("o", seed.runs(int(time.time())))
    *older, last = history
    dropped = ("BenchmarkB", "throughput")  # the newest run did not measure it
    newest = seed.Run(
        last.run_id, last.commit, last.end, {k: v for k, v in last.values.items() if k != dropped}
    )
    load(seeded_vm, seed.benchmark_lines([*older, newest], org="omega"))
    selector = SELECTOR.replace("acme", "omega")
    at = newest_run(seeded_vm, selector)
    assert int(at) - 1 < newest.end <= int(at)
    assert instant(seeded_vm, q.latest(selector, at)) == pytest.approx(newest.values)

    def rows_read(expr: str) -> int:
        body = httpx.get(f"{seeded_vm}/api/v1/query", params={"query": expr, "trace": "1"}, timeout=30).json()
        text = json.dumps(body["trace"])
        return sum(
            int(n) for n in re.findall(r"parallel process of fetched data: series=\d+, samples=(\d+)", text)
        )

    series = len(history[0].values)
    # VictoriaMetrics also keeps the sample before each window (for rate()): at most 2 a series
    assert rows_read(q.latest(selector, at)) <= 2 * series
    assert rows_read(f"last_over_time({q.TREND}{{{selector}}}[3h])") == len(history) * series - 1


def test_a_run_that_ended_just_before_midnight_stays_out_of_the_newest_run_s_table(seeded_vm: str) -> None:
    """The table reads each day's series of a benchmark (the ``_daily`` copies): a run 30 s
    before the newest, on the day before it, adds no second row and no wrong value."""
    midnight = (int(time.time()) // 86400 - 1) * 86400  # yesterday's: long over
    *older, before, last = own("m", seed.runs(midnight + 80))  # the newest ends at 00:00:20
    history = [*older, seed.Run(before.run_id, before.commit, midnight - 10, before.values), last]
    assert history[-1].values != history[-2].values
    load(seeded_vm, seed.benchmark_lines(history, org="mu"))
    selector = SELECTOR.replace("acme", "mu")
    body = httpx.get(f"{seeded_vm}/api/v1/query", params={"query": q.newest_run(selector, "3d")}, timeout=30)
    at = str(body.json()["data"]["result"][0]["value"][1])
    assert int(at) == last.end
    assert instant(seeded_vm, q.latest(selector, at)) == pytest.approx(last.values)
    assert instant(seeded_vm, q.previous(selector, at)) == pytest.approx(history[-2].values)
    assert instant(seeded_vm, q.change_vs_baseline(selector, at, "5")) == pytest.approx(
        {k: v / statistics.median(r.values[k] for r in history[-6:-1]) - 1 for k, v in last.values.items()}
    )


def test_one_trend_series_per_benchmark_and_a_commit_finds_its_run(seeded_vm: str) -> None:
    history = seed.runs(0)
    series = httpx.get(
        f"{seeded_vm}/api/v1/series", params={"match[]": f"{q.TREND}{{{SELECTOR}}}", "start": 0}
    )
    assert len(series.json()["data"]) == len(history[0].values)  # not benchmarks x runs
    commit = history[3]
    found = instant(seeded_vm, f'last_over_time({q.VALUE}{{commit="{commit.commit}"}}[3h])')
    assert found == pytest.approx(commit.values)


@pytest.mark.parametrize("window", ["60s", "240s"])
def test_run_markers_are_one_per_run_of_the_branch_at_its_end(seeded_vm: str, window: str) -> None:
    """The trends dashboard's Runs annotation, as Grafana draws it: one marker per run of the
    branch (none of another org's), at the run's end, from one series however many runs; with
    a window of one step ($__interval, as Grafana sets it) or four."""
    history = seed.runs(0)
    now = int(time.time())
    body = httpx.get(
        f"{seeded_vm}/api/v1/query_range",
        params={"query": q.run_markers(SELECTOR).replace("$__interval", window),
                "start": now - 3 * 3600, "end": now, "step": 60},
        timeout=30,
    ).json()  # fmt: skip
    (series,) = body["data"]["result"]
    assert series["metric"] == {"org": "acme", "project": "shop", "target": "bench", "branch": "main"}
    events = annotation_events(body["data"]["result"], 60, value_is_time=True)
    ends = [e for e, _ in events]
    assert len(events) == len(history) and all(start == end for start, end in events)
    # the fixture seeded its runs a whole number of seconds apart, 10 minutes apart
    assert [b - a for a, b in itertools.pairwise(ends)] == [600_000] * (len(history) - 1)
    assert ends[-1] == int(newest_run(seeded_vm, SELECTOR)) * 1000


def test_the_run_list_holds_the_window_up_to_the_newest_run_newest_first(seeded_vm: str) -> None:
    """The run dashboard's run list: the runs that ended in the window before its newest run
    (other tests' orgs may add theirs; acme's are checked), newest first."""
    at = newest_run(seeded_vm, SELECTOR)
    body = httpx.get(
        f"{seeded_vm}/api/v1/query", params={"query": q.runs_up_to(at, "25m")}, timeout=30
    ).json()
    listed = [(r["metric"]["run_id"], float(r["value"][1])) for r in body["data"]["result"]]
    assert [end for _, end in listed] == sorted((end for _, end in listed), reverse=True)
    assert all(int(at) - 1500 < end <= int(at) for _, end in listed)
    # acme's runs end 10 minutes apart, the newest at ``at``: 25 minutes hold three of them
    assert [run for run, _ in listed if run.startswith("r")] == ["r11", "r10", "r09"]


@pytest.mark.parametrize("step", [600, 1800, 3600])
def test_a_step_holding_several_runs_draws_the_largest_move_of_them(seeded_vm: str, step: int) -> None:
    """The moves graph when Grafana's step is longer than the runs' spacing (a narrow panel,
    a long range, a busy branch): each point is the largest move of the step's runs, so a run
    that moved far is drawn even when a quieter run ends after it in the same step."""
    moves = {("BenchmarkA", "time"): 1.4, ("BenchmarkB", "time"): 0.7}
    history = own("s", seed.runs(int(time.time()), count=18))
    # a far move in the middle of the history (either way), then back: the runs after it are quiet
    history[9] = seed.Run(history[9].run_id, history[9].commit, history[9].end,
                          history[9].values | {k: history[9].values[k] * f for k, f in moves.items()})  # fmt: skip
    load(seeded_vm, seed.benchmark_lines(history, org="sigma"))
    selector = SELECTOR.replace("acme", "sigma")
    start, end = history[0].end - step, history[-1].end + step
    raw = httpx.get(
        f"{seeded_vm}/api/v1/export", params={"match[]": f'{q.CHANGE}{{{selector},runs="1"}}'}, timeout=30
    ).text.splitlines()
    changes: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for line in raw:
        one = json.loads(line)
        key = (one["metric"]["benchmark"], one["metric"]["measure"])
        changes[key] = list(zip([t // 1000 for t in one["timestamps"]], one["values"], strict=True))
    assert len(changes) == len(history[0].values)
    body = httpx.get(
        f"{seeded_vm}/api/v1/query_range",
        params={"query": q.moves_over_time(selector, "1", "10").replace("$__interval", f"{step}s"),
                "start": start, "end": end, "step": step, "nocache": "1"},
        timeout=30,
    ).json()  # fmt: skip
    drawn = {(s["metric"]["benchmark"], s["metric"]["measure"]): s["values"] for s in body["data"]["result"]}
    assert set(drawn) == set(changes)
    for key, points in drawn.items():
        # VictoriaMetrics' window of a step at t: (t - step, t]
        expected = [(t, max(abs(v) for ts, v in changes[key] if t - step < ts <= t)) for t, _ in points]
        assert [t for t, _ in points] == [t for t, _ in expected], key
        assert [float(v) for _, v in points] == pytest.approx([v for _, v in expected]), key
        # a point per step that holds a run
        assert len(points) == len({(ts - start - 1) // step for ts, _ in changes[key]})
    for key in moves:  # the far move is drawn, whatever the step (the runs around move 3% at most)
        assert max(float(v) for _, v in drawn[key]) == pytest.approx(max(abs(v) for _, v in changes[key]))
        assert max(float(v) for _, v in drawn[key]) > 0.25
