"""Run a dashboard's queries the way Grafana would: variables first, macros substituted."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

RANGE_SECONDS = 3 * 3600
MACROS = {"__rate_interval": "1m", "__interval": "60s", "__range": "3h", "__range_s": str(RANGE_SECONDS)}
_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<match>.+),\s*)?(?P<label>\w+)\)$", re.S)
SCRAPE_SECONDS = 10  # the datasource's timeInterval (provisioning/grafana/datasources/benchhub.yml)
# Grafana's roundInterval (rangeutil.ts, and intervalv2 in its backend) from 10 s up (a step is
# at least the scrape interval): an interval under the first figure (ms) is rounded to the second
_ROUNDED = ((12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000), (90_000, 60_000),
            (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000),
            (1_500_000, 1_200_000), (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
            (16_200_000, 10_800_000), (32_400_000, 21_600_000), (86_400_000, 43_200_000),
            (604_800_000, 86_400_000), (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000))  # fmt: skip


def grafana_step(range_seconds: int, max_points: int, scrape_seconds: int = SCRAPE_SECONDS) -> int:
    """The step (s) Grafana's Prometheus datasource asks a panel's range at, and sets $__interval
    to (calculatePrometheusInterval): the range over the panel's points (its "Max data points",
    else its width in px), at least the scrape interval, rounded as Grafana rounds it, and at
    least the range over 11,000 (its safe resolution). Written out as Grafana cannot run here."""

    def rounded(ms: float) -> int:
        return next((nice for below, nice in _ROUNDED if ms < below), 31_536_000_000)

    wanted = range_seconds * 1000 / max_points
    step = scrape_seconds * 1000 if wanted < scrape_seconds * 1000 else rounded(wanted)
    return max(step, rounded(range_seconds * 1000 / 11_000)) // 1000


@dataclass
class Outcome:
    where: str
    expr: str
    series: int
    seconds: float
    missing_labels: list[str] = field(default_factory=list)
    error: str | None = None
    points: int = 0  # a range query's points, over all its series
    step: int = 0  # the step a range query was asked at (s)

    @property
    def ok(self) -> bool:
        return self.error is None and self.series > 0 and not self.missing_labels


def substitute(expr: str, values: dict[str, list[str]], macros: dict[str, str] = MACROS) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in macros:
            return macros[name]
        chosen = values[name]  # KeyError: the query uses a variable the dashboard does not define
        return chosen[0] if len(chosen) == 1 else "(" + "|".join(re.escape(v) for v in chosen) + ")"

    return _VAR.sub(one, expr)


class Runner:
    """Grafana's view of ``vm`` over the last ``range_seconds``, a point every ``step`` seconds."""

    def __init__(
        self, vm: str, range_seconds: int = RANGE_SECONDS, step: int = 60, timeout: float = 30,
        nocache: bool = False, now: int | None = None,
    ) -> None:  # fmt: skip
        """``nocache``: every query as on a dashboard's first load (VictoriaMetrics would otherwise
        answer a repeated range query from its rollup cache); ``now``: the range's end."""
        self.vm = vm
        self.nocache = nocache
        self.http = httpx.Client(base_url=vm, timeout=timeout)
        self.now = int(time.time()) if now is None else now
        self.range_seconds, self.step = range_seconds, step
        self.macros = MACROS
        if range_seconds != RANGE_SECONDS:
            self.macros = {"__rate_interval": f"{4 * step}s", "__interval": f"{step}s",
                           "__range": f"{range_seconds}s", "__range_s": str(range_seconds)}  # fmt: skip

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, params: dict[str, Any]) -> tuple[Any, float]:
        if self.nocache:
            params = {**params, "nocache": "1"}
        start = time.perf_counter()
        response = self.http.post(path, data=params)  # the datasource's httpMethod: POST, as Grafana sends it
        took = time.perf_counter() - start
        body = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise ValueError(f"{response.status_code}: {body.get('error', response.text[:300])}")
        return body["data"], took

    def variable(self, var: dict[str, Any], values: dict[str, list[str]]) -> tuple[list[str], float]:
        if var["type"] == "custom":
            current = var.get("current", {}).get("value")
            return ([current] if current else var["query"].split(",")[:1]), 0.0
        query = var["query"] if isinstance(var["query"], str) else var["query"]["query"]
        query = substitute(query, values, self.macros)
        start = {"start": self.now - self.range_seconds, "end": self.now}
        if (found := _LABEL_VALUES.match(query.strip())) is not None:
            label = found.group("label")
            if found.group("match"):  # Grafana's path for a datasource without prometheusType: the series API
                data, took = self._get("/api/v1/series", {**start, "match[]": found.group("match")})
                return sorted({s[label] for s in data if label in s}), took
            data, took = self._get(f"/api/v1/label/{label}/values", start)
            return sorted(data), took
        if query.startswith("query_result(") and query.endswith(")"):
            data, took = self._get(
                "/api/v1/query", {"query": query[len("query_result(") : -1], "time": self.now}
            )
            texts = [  # what Grafana matches the regex against: {labels} value timestamp
                "{"
                + ",".join(f'{k}="{v}"' for k, v in s["metric"].items())
                + "} "
                + f"{s['value'][1]} {s['value'][0]}"
                for s in data["result"]
            ]
            pattern = re.compile(var.get("regex", "").strip("/") or ".*")
            found = [m.group(1) if m.groups() else m.group(0) for t in texts if (m := pattern.search(t))]
            return found, took
        raise ValueError(
            f"variable {var['name']}: query {query!r} is neither label_values() nor query_result()"
        )

    def at_most(self, points: int) -> tuple[int, dict[str, str]]:
        """The step and macros of a panel whose "Max data points" is ``points``: Grafana asks it
        at that many points over the range, whatever the panel's width."""
        step = grafana_step(self.range_seconds, points)
        rate = max(step + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)  # Grafana's $__rate_interval
        return step, {**self.macros, "__interval": f"{step}s", "__rate_interval": f"{rate}s"}

    def query(
        self, where: str, expr: str, instant: bool, legend: str = "", step: int | None = None
    ) -> Outcome:
        step = 0 if instant else step or self.step
        try:
            if instant:
                data, took = self._get("/api/v1/query", {"query": expr, "time": self.now})
            else:
                data, took = self._get("/api/v1/query_range", {"query": expr, "start": self.now - self.range_seconds,
                                                               "end": self.now, "step": step})  # fmt: skip
        except (ValueError, httpx.HTTPError) as exc:
            return Outcome(where, expr, 0, 0.0, error=str(exc))
        wanted = re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)
        missing = sorted({w for w in wanted for s in data["result"] if w not in s["metric"]})
        points = 0 if instant else sum(len(s["values"]) for s in data["result"])
        return Outcome(where, expr, len(data["result"]), took, missing, points=points, step=step)


def run_dashboard(runner: Runner, board: dict[str, Any]) -> tuple[dict[str, list[str]], list[Outcome]]:
    """Every variable, panel target and annotation query of ``board``, in Grafana's order."""
    values: dict[str, list[str]] = {}
    outcomes = []
    for var in board["templating"]["list"]:
        try:
            found, took = runner.variable(var, values)
            error = None if found else "no values"
        except (ValueError, KeyError, httpx.HTTPError) as exc:
            found, took, error = [], 0.0, str(exc)
        outcomes.append(Outcome(f"variable {var['name']}", str(var["query"]), len(found), took, error=error))
        if var.get("multi") and var.get("allValue"):  # "All", as Grafana sends it: the custom all value
            values[var["name"]] = [var["allValue"]]
        else:
            values[var["name"]] = found if var.get("multi") else found[:1]
    for panel in board["panels"]:
        step, macros = (
            runner.at_most(panel["maxDataPoints"]) if panel.get("maxDataPoints") else (None, runner.macros)
        )
        for t in panel.get("targets", []):
            try:
                expr = substitute(t["expr"], values, macros)
            except KeyError as exc:
                outcomes.append(
                    Outcome(f"panel {panel['title']!r}", t["expr"], 0, 0.0, error=f"unknown variable {exc}")
                )
                continue
            where = f"panel {panel['title']!r} {t['refId']}"
            outcomes.append(
                runner.query(where, expr, bool(t.get("instant")), t.get("legendFormat", ""), step)
            )
    for ann in board.get("annotations", {}).get("list", []):
        if ann.get("expr"):  # a Prometheus one: Grafana's own annotations (by tags) ask none of ours
            expr = substitute(ann["expr"], values, runner.macros)
            texts = ann.get("titleFormat", "") + ann.get("textFormat", "")
            outcomes.append(runner.query(f"annotation {ann['name']!r}", expr, False, texts))
    return values, outcomes


def annotation_events(
    result: list[dict[str, Any]], step: float, value_is_time: bool
) -> list[tuple[int, int]]:
    """The markers Grafana draws from a Prometheus annotation's range query ``result``: (time,
    time end) in ms. What Grafana's datasource does (processAnnotationResponse): each series'
    points with a value > 0 (or, ``value_is_time``, every point at the time its value holds, in
    ms), points at most ``step`` s apart joined into one region. Written out as Grafana cannot
    run here."""
    events = []
    for series in result:
        stamps = [
            int(float(v)) if value_is_time else int(float(t) * 1000)
            for t, v in series["values"]
            if value_is_time or float(v) > 0
        ]
        region: list[int] | None = None
        for stamp in stamps:
            if region and region[1] + step * 1000 >= stamp:
                region[1] = stamp
                continue
            if region:
                events.append((region[0], region[1]))
            region = [stamp, stamp]
        if region:
            events.append((region[0], region[1]))
    return events
