"""A comparison for people: a benchstat-like table per measure, and Markdown for a PR comment."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from rich import box
from rich.markup import escape
from rich.table import Table

from central.compare_schemas import ComparedResult, ComparisonPublic, SideEstimate, TargetComparison, Verdict
from cli.humanize import quantity

CHANGED = (Verdict.regressed, Verdict.improved)
_STYLE = {Verdict.regressed: "red", Verdict.improved: "green", Verdict.insufficient: "yellow",
          Verdict.added: "cyan", Verdict.removed: "cyan", Verdict.unchanged: "dim"}  # fmt: skip


def name_of(row: ComparedResult) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(row.labels.items()))
    return f"{row.benchmark} [{labels}]" if labels else row.benchmark


def side(estimate: SideEstimate | None, unit: str) -> str:
    """``4.01 µs ±2%``: the median and the wider half of its confidence interval, as benchstat."""
    if estimate is None:
        return ""
    text = quantity(estimate.centre, unit)
    if estimate.n > 1 and estimate.centre:
        half = max(estimate.high - estimate.centre, estimate.centre - estimate.low) / abs(estimate.centre)
        text += f" ±{half * 100:.0f}%" if half >= 0.01 else f" ±{half * 100:.1f}%"
    return text


def change(row: ComparedResult) -> str:
    return "" if row.change is None else f"{row.change * 100:+.2f}%"


def n_text(row: ComparedResult) -> str:
    if not (row.base and row.head):
        return ""
    return str(row.base.n) if row.base.n == row.head.n else f"{row.base.n}+{row.head.n}"


def p_text(row: ComparedResult) -> str:
    """``p=0.002 n=10`` as benchstat prints it (``n=10+20`` when the sides differ); p is adjusted."""
    if not (row.base and row.head):
        return ""
    n = f"n={row.base.n}" if row.base.n == row.head.n else f"n={row.base.n}+{row.head.n}"
    return n if row.adjusted_p is None else f"p={row.adjusted_p:.3f} {n}"


def summary(comparison: ComparisonPublic) -> str:
    counts = comparison.counts
    parts = [f"{counts[v]} {v.value}" for v in Verdict if counts[v] or v in CHANGED]
    return ", ".join(parts)


def geomean_text(target: TargetComparison) -> str:
    return "" if target.geomean is None else f"geomean {(target.geomean - 1) * 100:+.2f}%"


def machine_text(target: TargetComparison) -> str:
    """One line when base and head ran on machines that differ (their timings may differ for that)."""
    return f"{target.target}: the machine differs: {'; '.join(target.machine)}"


def tables(comparison: ComparisonPublic, only_changed: bool = False) -> list[Table]:
    """One table per (target, measure), like benchstat's one per unit."""
    groups: dict[tuple[str, str], list[ComparedResult]] = defaultdict(list)
    for row in comparison.data:
        if not only_changed or row.verdict in CHANGED:
            groups[(row.target, row.measure)].append(row)
    out = []
    for (target, measure), rows in groups.items():
        table = Table(
            title=f"{target}: {measure}",
            title_justify="left",
            pad_edge=False,
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        table.add_column("benchmark", overflow="fold", ratio=1, min_width=12)
        table.add_column("base", justify="right", no_wrap=True)
        table.add_column("head", justify="right", no_wrap=True)
        table.add_column("change", justify="right", no_wrap=True)
        table.add_column("p", justify="right", no_wrap=True)
        table.add_column("n", justify="right", no_wrap=True)
        table.add_column("verdict", no_wrap=True, min_width=9)
        for row in rows:
            style = _STYLE[row.verdict]
            table.add_row(
                escape(name_of(row)), side(row.base, row.unit), side(row.head, row.unit), change(row),
                "" if row.adjusted_p is None else f"{row.adjusted_p:.3f}", n_text(row),
                f"[{style}]{row.verdict.value}[/]",
            )  # fmt: skip
        out.append(table)
    return out


def _md(text: str) -> str:
    """Text in a Markdown table cell: pipes and HTML brackets escaped."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def grafana_links(grafana_url: str | None, comparison: ComparisonPublic) -> list[str]:
    """Markdown links to the run-detail dashboard of each target's last head run (over the run's
    time, a minute either side: the board's own range is the last hour, and lists the runs of
    the day up to the newest in its range) and to each target's trends."""
    if not grafana_url:
        return []
    root = grafana_url.rstrip("/")
    links = []
    for target in comparison.targets:
        for run_id in target.head_runs[-1:]:
            params = {"var-run_id": run_id}
            if target.head_span:
                start, end = (int(t.timestamp() * 1000) for t in target.head_span)
                params |= {"from": str(start - 60_000), "to": str(end + 60_000)}
            links.append(f"[run {run_id[:8]}]({root}/d/benchhub-run?{urlencode(params)})")
        query = urlencode(
            {"var-org": comparison.org, "var-project": comparison.project, "var-target": target.target}
        )
        links.append(f"[{_md(target.target)} trends]({root}/d/benchhub-trends?{query})")
    return links


def markdown(
    comparison: ComparisonPublic, title: str, about: str = "", links: list[str] | None = None
) -> str:
    """A PR comment: a summary line, the changed results in a table behind <details>, links."""
    counts = comparison.counts
    mark = "❌" if counts[Verdict.regressed] else "✅"
    lines = [f"### {mark} {_md(title)}", ""]
    means = [f"{_md(t.target)} {geomean_text(t)}" for t in comparison.targets if t.geomean is not None]
    lines.append(f"**{summary(comparison)}**" + (f" · {', '.join(means)}" if means else ""))
    if about:
        lines += ["", _md(about)]
    changed = [r for r in comparison.data if r.verdict in CHANGED]
    if changed:
        lines += [
            "",
            "<details>",
            f"<summary>{len(changed)} changed result{'s' if len(changed) > 1 else ''}</summary>",
            "",
        ]
        lines += [
            "| benchmark | measure | base | head | change | p | verdict |",
            "|---|---|--:|--:|--:|--:|---|",
        ]
        for row in sorted(changed, key=lambda r: (r.verdict != Verdict.regressed, -abs(r.change or 0))):
            lines.append(
                f"| {_md(name_of(row))} | {_md(row.measure)} | {_md(side(row.base, row.unit))} | "
                f"{_md(side(row.head, row.unit))} | {change(row)} | {p_text(row)} | {row.verdict.value} |"
            )
        lines += ["", "</details>"]
    others = [r for r in comparison.data if r.verdict in (Verdict.added, Verdict.removed)]
    for target in comparison.targets:
        if target.machine:
            lines += ["", f"⚠️ {_md(machine_text(target))}"]
    if others:
        listed = ", ".join(f"`{_md(name_of(r))}` ({r.measure}, {r.verdict.value})" for r in others[:20])
        more = f" and {len(others) - 20} more" if len(others) > 20 else ""
        lines += ["", f"Not compared (on one side only): {listed}{more}"]
    if links:
        lines += ["", " · ".join(links)]
    return "\n".join(lines) + "\n"
