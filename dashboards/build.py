"""The provisioned dashboards, built with grafana-foundation-sdk (Grafana 11.6 types).

``python -m dashboards`` writes them to dashboards/json/; a test keeps that output in sync.
Every metric name comes from the catalog (exporter.metrics) or, for vmagent's own metrics,
from its EXTERNAL list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.common import VizLegendOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.common import GraphDrawStyle, LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from central.settings import CentralSettings
from dashboards import queries as q
from exporter import metrics as m

DATASOURCE_UID = "benchhub-vm"
DS = dm.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
GRAFANA_DS = dm.DataSourceRef(type_val="grafana", uid="-- Grafana --")  # Grafana's own annotations
SCHEMA_VERSION = 39
TAGS = ["benchhub"]


class Layout:
    """Places panels left to right in rows of 24 columns."""

    def __init__(self) -> None:
        self.x = self.y = self.row_h = 0
        self.next_id = 1

    def grid(self, board: Any, panels: list[Any], w: int = 12, h: int = 8) -> Any:
        """``board`` with ``panels`` placed, ``w`` x ``h`` each."""
        for panel in panels:
            board = board.with_panel(self.place(panel, w, h))
        return board

    def place(self, panel: Any, w: int, h: int) -> Any:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel.grid_pos(dm.GridPos(h=h, w=w, x=self.x, y=self.y)).id(self.next_id)
        self.x += w
        self.row_h = max(self.row_h, h)
        self.next_id += 1
        return panel


def target(
    expr: str, legend: str = "", ref: str = "A", instant: bool = False, fmt: str = "time_series"
) -> Any:
    t = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DS)
    if legend:
        t = t.legend_format(legend)
    if instant:
        t = t.instant().format(PromQueryFormat(fmt))
    return t


def series(title: str, unit: str, *targets: Any, points: bool = False, legend: bool = True) -> Any:
    panel = timeseries.Panel().title(title).datasource(DS).unit(unit)
    for t in targets:
        panel = panel.with_target(t)
    if points:
        panel = panel.draw_style(GraphDrawStyle.POINTS).point_size(6)
    mode = LegendDisplayMode.LIST if legend else LegendDisplayMode.HIDDEN
    return panel.legend(
        VizLegendOptions().show_legend(legend).display_mode(mode).placement(LegendPlacement.BOTTOM)
    )


def asked(name: str, query: str) -> Any:
    """A variable the datasource answers, asked again whenever the time range changes."""
    return (
        dashboard.QueryVariable(name)
        .query(query)
        .datasource(DS)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


def query_var(name: str, query: str, label: str, multi: bool = False) -> Any:
    v = asked(name, query).label(label).sort(dm.VariableSort.ALPHABETICAL_ASC)
    if multi:
        # "All" is sent as .* rather than a regex of every value: a project of 1,000 benchmarks
        # would otherwise send (and VictoriaMetrics match) a 30 kB alternation in every query
        v = v.multi(True).include_all(True).all_value(".*")
    return v


def newest_runs_var() -> Any:
    """Runs, newest first (the default is the newest run): those that ended in the day up to the
    newest run in the time range (variable newest), from the markers central writes. Listed
    over the whole range instead, the list cost a marker series per run (60 to 960 runs in 30
    days: 1.3 to 10.5 ms, against 0.9 to 1.8)."""
    newest = f"query_result({q.runs_up_to('$newest')})"
    return (asked("run_id", newest).label("Run (newest first, its last day)").regex('/run_id="([^"]+)"/')
            .sort(dm.VariableSort.DISABLED))  # fmt: skip


def base(uid: str, title: str, description: str) -> Any:
    return (dashboard.Dashboard(title).uid(uid).tags(TAGS).description(description).refresh("1m")
            .time("now-7d", "now").timezone("browser").editable())  # fmt: skip


# -- Benchmark trends --------------------------------------------------------------------------

# central's default baseline windows (BENCHHUB_CENTRAL_BASELINE_RUNS) but 1, the "vs previous"
# column: a fixed list costs no query (a label_values of the baseline series took 26 ms)
BASELINE_WINDOWS = ",".join(str(n) for n in CentralSettings.model_fields["baseline_runs"].default if n > 1)
BRANCH_SELECTOR = 'org="$org",project="$project",branch="$branch",target="$target"'
# The trend graphs' "Max data points": a point every range / 250 at most, as Prometheus' own
# graph asks (its resolution: range / 250), rounded as Grafana rounds a step (a month: 3 h, a
# week: 30 min). A graph draws a point per run and line up to one per step, so without it a
# graph's cost grew with the runs in the range up to one per pixel of its width (make
# bench-scale, a month of 60 to 960 runs at the 20-min step of a full-width panel: 2.7-3.6x;
# at 3 h: 1.6-1.8x). Zoomed in, every run is a point again.
GRAPH_POINTS = 250
TREND_SELECTOR = BRANCH_SELECTOR + ',benchmark=~"$benchmark",measure="$measure"'


def newest_run_var(selector: str = BRANCH_SELECTOR) -> Any:
    """Hidden: when the newest run in the range (of the branch: ``selector``) ended (unix
    seconds, 0 for none). The newest-run table asks its questions @ that time, so it reads a
    sample per benchmark, not every run's sample in the range (make bench-scale)."""
    return (asked("newest", f"query_result({q.newest_run(selector, '$__range')})").label("Newest run ended at")
            .regex(r"/\} ([0-9]+)/").hide(dm.VariableHide.HIDE_VARIABLE))  # fmt: skip


def picked_var(name: str, query: str) -> Any:
    """Hidden: the benchmarks a graph draws, picked in the newest run (all of them, as a regex).
    Picked over the whole range instead (topk_max), a graph read every run's sample of every
    benchmark: 95-117 ms uncached at 960 runs, where the picked ones take 4-13 ms."""
    return (asked(name, f"query_result({query})").regex('/benchmark="([^"]+)"/').multi(True).include_all(True)
            .current(dm.VariableOption(text="All", value="$__all")).sort(dm.VariableSort.DISABLED)
            .hide(dm.VariableHide.HIDE_VARIABLE))  # fmt: skip


def trends() -> Any:
    sel, lay = TREND_SELECTOR, Layout()
    d = base(
        "benchhub-trends",
        "BenchHub / Benchmark trends",
        "Benchmark results per run of a branch; the latest run against the one before and the median of the runs before.",
    )
    v = q.TREND
    d = (d.with_variable(query_var("org", f"label_values({v}, org)", "Organization"))
         .with_variable(query_var("project", f'label_values({v}{{org="$org"}}, project)', "Project"))
         .with_variable(query_var("branch", f'label_values({v}{{org="$org",project="$project"}}, branch)', "Branch"))
         .with_variable(query_var("target", f'label_values({v}{{org="$org",project="$project",branch="$branch"}}, target)', "Target"))
         .with_variable(newest_run_var())
         .with_variable(query_var("benchmark", f'label_values({v}{{{BRANCH_SELECTOR}}}, benchmark)', "Benchmark", multi=True))
         .with_variable(query_var("measure", f'label_values({v}{{{BRANCH_SELECTOR},benchmark=~"$benchmark"}}, measure)', "Measure"))
         .with_variable(dashboard.CustomVariable("runs").label("Baseline runs").values(BASELINE_WINDOWS)
                        .current(dm.VariableOption(text="10", value="10")))
         .with_variable(dashboard.CustomVariable("top").label("Lines per graph").values("10,20,50")
                        .current(dm.VariableOption(text="10", value="10")))
         .with_variable(picked_var("largest", q.largest(sel, "$newest", "$top")))
         .with_variable(picked_var("moved", q.moved_most(sel, "$newest", "$runs", "$top"))))  # fmt: skip
    d = d.with_panel(
        lay.place(
            series(
                "Results over time: the $top largest in the newest run (one point per run)",
                "short",
                target(q.runs_over_time(sel + ',benchmark=~"$largest"', "$top"), "{{benchmark}} {{procs}}"),
                points=True,
                legend=False,
            )
            .max_data_points(GRAPH_POINTS)
            .description(
                f"Each benchmark's value in each run, at most {GRAPH_POINTS} points a line (a month: "
                "a point every 3 h). A step holding several runs (a long range or a busy branch) "
                "draws the last of them: zoom in to see each run."
            ),
            24,
            10,
        )
    )
    latest = (
        table.Panel()
        .title("Newest run: each benchmark against the run before and the median")
        .datasource(DS)
        .description(
            "The newest run of the target on the branch within the time range (its end: "
            "variable newest); a benchmark that run did not produce is not listed."
        )
    )
    latest = (latest.with_target(target(q.latest(sel, "$newest"), ref="latest", instant=True, fmt="table"))
              .with_target(target(q.change_vs_previous(sel, "$newest"), ref="vs_previous", instant=True, fmt="table"))
              .with_target(target(q.change_vs_baseline(sel, "$newest", "$runs"), ref="vs_median", instant=True, fmt="table"))
              .with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
              .with_transformation(dm.DataTransformerConfig(id_val="organize", options={
                  "excludeByName": {"Time": True, "__name__": True, "org": True, "project": True, "branch": True,
                                    "target": True, "host": True, m.DAY_LABEL: True},
                  "renameByName": {"Value #latest": "value (base unit)", "Value #vs_previous": "vs previous run",
                                   "Value #vs_median": "vs median of $runs runs"}})))  # fmt: skip
    latest = latest.override_by_regexp("vs .*", [dm.DynamicConfigValue(id_val="unit", value="percentunit")])
    d = d.with_panel(lay.place(latest, 24, 10))
    d = d.with_panel(
        lay.place(
            series(
                "Size of the change vs the median of the $runs runs before: the $top that moved most in the newest run",
                "percentunit",
                target(
                    q.moves_over_time(sel + ',benchmark=~"$moved"', "$runs", "$top"),
                    "{{benchmark}} {{procs}}",
                ),
                points=True,
            )
            .max_data_points(GRAPH_POINTS)
            .description(
                "How far each run moved against the median of the runs before it, at most "
                f"{GRAPH_POINTS} points a line (a month: a point every 3 h). A step holding several "
                "runs (a long range or a busy branch) draws the largest move among them, so a run "
                "that moved far is never hidden by a quiet one after it."
            ),
            24,
            8,
        )
    )
    points = prom_annotation("Change points", f"{m.CHANGE_POINT.name}{{{sel}}}", "red")
    runs = prom_annotation("Runs", q.run_markers(BRANCH_SELECTOR), titleFormat="Run of {{target}} on {{branch}}",
                           useValueForTime=True)  # fmt: skip
    # the commit of each run, from the annotations central posts to Grafana when
    # BENCHHUB_CENTRAL_GRAFANA_URL is set (central.markers.annotation_tags); off by default:
    # a second marker at every run
    commits = (dashboard.AnnotationQuery().name("Runs: commits (Grafana annotations from central)")
               .datasource(GRAFANA_DS).enable(False).icon_color("purple")
               .target(dashboard.AnnotationTarget().type("tags").match_any(False).limit(500).tags(
                   ["benchhub", "org:$org", "project:$project", "target:$target", "branch:$branch"])))  # fmt: skip
    return d.annotation(runs).annotation(commits).annotation(points)


class _PromAnnotation(dm.AnnotationQuery):
    """An annotation query with the Prometheus datasource's own options (titleFormat,
    useValueForTime...), which Grafana reads off the annotation and the SDK does not model."""

    def __init__(self, options: dict[str, Any], **fields: Any) -> None:
        super().__init__(**fields)
        self.options = options

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), **self.options}


@dataclass
class _Built:
    """A built model in the shape the SDK's builders take (``.build()``)."""

    model: Any

    def build(self) -> Any:
        return self.model


# what Grafana's Prometheus datasource reads off an annotation besides its expr
PROM_ANNOTATION_OPTIONS = frozenset({"titleFormat", "textFormat", "tagKeys", "step", "useValueForTime"})


def prom_annotation(name: str, expr: str, color: str = "purple", **options: Any) -> Any:
    """A Prometheus annotation of the dashboard, on by default; ``options``: PROM_ANNOTATION_OPTIONS."""
    if unknown := set(options) - PROM_ANNOTATION_OPTIONS:
        raise ValueError(f"annotation {name!r}: {sorted(unknown)} are not Prometheus annotation options")
    return _Built(
        _PromAnnotation(options, name=name, datasource=DS, enable=True, icon_color=color, expr=expr)
    )


# -- Run detail --------------------------------------------------------------------------------


def run_detail() -> Any:
    lay = Layout()
    d = base(
        "benchhub-run",
        "BenchHub / Run detail",
        "One run: what its processes used, what the host did meanwhile, and its results. Set the time range to the run.",
    )
    d = (d.time("now-1h", "now")
         .with_variable(newest_run_var(""))
         .with_variable(newest_runs_var())
         .with_variable(query_var("host", f'label_values({q.VALUE}{{run_id="$run_id"}}, host)', "Host")))  # fmt: skip
    run = 'run_id="$run_id"'
    on_host = f'and on(instance) {m.HOST_INFO.name}{{hostname="$host"}}'
    panels = [
        series("Run CPU", "percentunit",
               target(f"sum by (mode) (rate({m.RUN_CPU_SECONDS.name}{{{run}}}[$__rate_interval]))", "{{mode}}")),
        series("Run memory (RSS)", "bytes",
               target(f"{m.RUN_RSS.name}{{{run}}}", "rss"), target(f"{m.RUN_RSS_PEAK.name}{{{run}}}", "peak", ref="B")),
        series("Run I/O", "Bps",
               target(f"rate({m.RUN_READ_BYTES.name}{{{run}}}[$__rate_interval])", "read"),
               target(f"rate({m.RUN_WRITTEN_BYTES.name}{{{run}}}[$__rate_interval])", "written", ref="B")),
        series("Run processes and threads", "short",
               target(f"{m.RUN_PROCESSES.name}{{{run}}}", "processes"), target(f"{m.RUN_THREADS.name}{{{run}}}", "threads", ref="B")),
        series("Host CPU", "percentunit", target(
            f"sum by (mode) (rate({m.HOST_CPU_SECONDS.name}{{mode!=\"idle\"}}[$__rate_interval]) {on_host}) / "
            f"scalar(count(count by (cpu) ({m.HOST_CPU_SECONDS.name} {on_host})))", "{{mode}}")),
        series("Host memory used", "bytes", target(
            f"({m.HOST_MEMORY['total'].name} - {m.HOST_MEMORY['available'].name}) {on_host}", "used")),
        series("Host disk I/O", "Bps",
               target(f"sum by (device) (rate({m.HOST_DISK['read_bytes'].name}[$__rate_interval]) {on_host})", "read {{device}}"),
               target(f"sum by (device) (rate({m.HOST_DISK['write_bytes'].name}[$__rate_interval]) {on_host})", "write {{device}}", ref="B")),
        series("Host network", "Bps",
               target(f"sum by (device) (rate({m.HOST_NETWORK['bytes_recv'].name}[$__rate_interval]) {on_host})", "in {{device}}"),
               target(f"sum by (device) (rate({m.HOST_NETWORK['bytes_sent'].name}[$__rate_interval]) {on_host})", "out {{device}}", ref="B")),
    ]  # fmt: skip
    d = lay.grid(d, panels)
    results = (table.Panel().title("Results of the run").datasource(DS)
               .with_target(target(f"last_over_time({q.VALUE}{{{run}}}[$__range])", ref="A", instant=True, fmt="table"))
               .with_transformation(dm.DataTransformerConfig(id_val="organize", options={
                   "excludeByName": {"Time": True, "__name__": True, "run_id": True}})))  # fmt: skip
    d = d.with_panel(lay.place(results, 24, 10))
    return d.annotation(prom_annotation("This run", f"{q.INFO}{{{run}}}", titleFormat="Run {{edge}}: {{commit}}",
                                        textFormat="{{project}} {{target}} on {{branch}}: {{state}}"))  # fmt: skip


# -- Hosts -------------------------------------------------------------------------------------


def hosts() -> Any:
    lay = Layout()
    d = base("benchhub-hosts", "BenchHub / Hosts", "The machines running the agent (benchhub_host_*).")
    d = d.time("now-6h", "now")
    d = (d.with_variable(query_var("org", f"label_values({m.HOST_INFO.name}, org)", "Organization"))
         .with_variable(query_var("hostname", f'label_values({m.HOST_INFO.name}{{org="$org"}}, hostname)', "Host", multi=True)))  # fmt: skip
    on = f'and on(instance) {m.HOST_INFO.name}{{org="$org",hostname=~"$hostname"}}'
    name = f'* on(instance) group_left(hostname) {m.HOST_INFO.name}{{org="$org",hostname=~"$hostname"}}'
    panels = [
        series("CPU busy", "percentunit", target(
            f"(1 - avg by (instance) (rate({m.HOST_CPU_SECONDS.name}{{mode=\"idle\"}}[$__rate_interval]))) {name}", "{{hostname}}")),
        series("Load (1 min)", "short", target(f"{m.HOST_LOAD1.name} {name}", "{{hostname}}")),
        series("Memory used", "percentunit", target(
            f"(1 - {m.HOST_MEMORY['available'].name} / {m.HOST_MEMORY['total'].name}) {name}", "{{hostname}}")),
        series("Disk busy", "percentunit", target(
            f"rate({m.HOST_DISK['busy_time'].name}[$__rate_interval]) {name}", "{{hostname}} {{device}}")),
        series("Network received", "Bps", target(
            f"rate({m.HOST_NETWORK['bytes_recv'].name}[$__rate_interval]) {name}", "{{hostname}} {{device}}")),
        series("Network sent", "Bps", target(
            f"rate({m.HOST_NETWORK['bytes_sent'].name}[$__rate_interval]) {name}", "{{hostname}} {{device}}")),
        series("Filesystem used", "percentunit", target(
            f"(1 - {m.HOST_FILESYSTEM['avail'].name} / {m.HOST_FILESYSTEM['size'].name}) {name}", "{{hostname}} {{mountpoint}}")),
        series("Context switches", "ops", target(
            f"rate({m.HOST_CONTEXT_SWITCHES.name}[$__rate_interval]) {on}", "{{instance}}")),
    ]  # fmt: skip
    d = lay.grid(d, panels)
    return d


# -- Containers --------------------------------------------------------------------------------


def containers() -> Any:
    lay = Layout()
    d = base(
        "benchhub-containers",
        "BenchHub / Containers",
        "Containers on the agents' hosts (benchhub_container_*, cAdvisor names).",
    )
    d = d.time("now-6h", "now")
    d = (d.with_variable(query_var("org", f"label_values({m.CONTAINER_INFO.name}, org)", "Organization"))
         .with_variable(query_var("name", f'label_values({m.CONTAINER_INFO.name}{{org="$org"}}, name)', "Container", multi=True)))  # fmt: skip
    sel = 'org="$org",name=~"$name"'
    panels = [
        series("CPU", "percentunit", target(f"rate({m.CONTAINER_CPU_USAGE.name}{{{sel}}}[$__rate_interval])", "{{name}}")),
        series("CPU throttled", "s", target(
            f"rate({m.CONTAINER_CFS_THROTTLED_SECONDS.name}{{{sel}}}[$__rate_interval])", "{{name}}")),
        series("Memory working set", "bytes",
               target(f"{m.CONTAINER_MEMORY_WORKING_SET.name}{{{sel}}}", "{{name}}"),
               target(f"{m.CONTAINER_MEMORY_LIMIT.name}{{{sel}}} > 0", "{{name}} limit", ref="B")),
        series("Processes", "short", target(f"{m.CONTAINER_PROCESSES.name}{{{sel}}}", "{{name}}")),
        series("Network", "Bps",
               target(f"rate({m.CONTAINER_NET_RX_BYTES.name}{{{sel}}}[$__rate_interval])", "{{name}} in"),
               target(f"rate({m.CONTAINER_NET_TX_BYTES.name}{{{sel}}}[$__rate_interval])", "{{name}} out", ref="B")),
        series("Block I/O", "Bps",
               target(f"rate({m.CONTAINER_FS_READS.name}{{{sel}}}[$__rate_interval])", "{{name}} read"),
               target(f"rate({m.CONTAINER_FS_WRITES.name}{{{sel}}}[$__rate_interval])", "{{name}} write", ref="B")),
    ]  # fmt: skip
    d = lay.grid(d, panels)
    runtime = (
        stat.Panel()
        .title("Container runtime reachable")
        .datasource(DS)
        .with_target(target(f'min({m.CONTAINER_RUNTIME_UP.name}{{org="$org"}})', "up"))
    )
    return d.with_panel(lay.place(runtime, 6, 4))


# -- BenchHub itself ---------------------------------------------------------------------------


def self_monitoring() -> Any:
    lay = Layout()
    d = base(
        "benchhub-self",
        "BenchHub / Self-monitoring",
        "The agent's collectors, vmagent's scraping and remote write, central's requests.",
    ).time("now-6h", "now")
    e = m.EXTERNAL
    panels = [
        series("Agent collector duration", "s",
               target(f"max by (collector) ({m.COLLECTOR_DURATION.name})", "{{collector}}")),
        series("Agent collector failures", "short",
               target(f"sum by (collector) ({m.COLLECTOR_SUCCESS.name} == 0) or sum by (collector) ({m.COLLECTOR_SUCCESS.name} * 0)", "{{collector}}")),
        series("Scrape targets up", "short", target(f"sum by (job) ({e['up'].name})", "{{job}}")),
        series("Scrapes failed", "ops", target(
            f"sum(rate({e['scrapes_failed'].name}[$__rate_interval]))", "failed"), target(
            f"sum(rate({e['scrapes'].name}[$__rate_interval]))", "all", ref="B")),
        series("Remote write: pending bytes (buffer)", "bytes",
               target(f"sum({e['pending_bytes'].name})", "pending")),
        series("Remote write: rows sent", "ops",
               target(f"sum(rate({e['rows_sent'].name}[$__rate_interval]))", "rows/s")),
        series("Central requests", "reqps", target(
            f"sum by (route, status) (rate({m.CENTRAL_REQUESTS.name}[$__rate_interval]))", "{{route}} {{status}}")),
        series("Central errors (5xx)", "reqps", target(
            f'sum(rate({m.CENTRAL_REQUESTS.name}{{status=~"5.."}}[$__rate_interval])) or vector(0)', "5xx")),
        series("Central p99 latency", "s", target(
            f"histogram_quantile(0.99, sum by (le, route) (rate({m.CENTRAL_REQUEST_DURATION.name}_bucket[$__rate_interval])))",
            "{{route}}")),
    ]  # fmt: skip
    d = lay.grid(d, panels)
    return d


DASHBOARDS: dict[str, Callable[[], Any]] = {
    "benchhub-trends": trends,
    "benchhub-run": run_detail,
    "benchhub-hosts": hosts,
    "benchhub-containers": containers,
    "benchhub-self": self_monitoring,
}


def render(uid: str) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model."""
    model = DASHBOARDS[uid]().build()
    data: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    data["schemaVersion"] = SCHEMA_VERSION
    data.pop("id", None)  # provisioned dashboards are identified by uid
    data.setdefault("templating", {}).setdefault("list", [])
    return data
