"""Re-send a finished run's results (and markers) to VictoriaMetrics, so nothing stays missing.

The samples are the ones the agent exposes for the run: same names, labels, base units and
timestamp (the run's end), so VictoriaMetrics' deduplication keeps one sample per series
however often a run is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from central.errors import Conflict, NotConfigured, UpstreamFailed
from central.markers import marker_text
from central.schemas import ALLOWED_TRANSITIONS, ResultIn, RunPublic
from exporter.exposition import escape_label_value
from exporter.metrics import BENCHMARK_ITERATIONS, BENCHMARK_VALUE
from exporter.units import to_base_unit


def results_text(run: RunPublic, results: Sequence[ResultIn]) -> tuple[str, int]:
    """Prometheus text of the run's results, and how many samples it holds."""
    assert run.finished_at is not None
    stamp = int(run.finished_at.timestamp() * 1000)
    lines = []
    for result in results:
        if result.value is None:
            continue  # a failed result has no sample
        value, unit = to_base_unit(result.value, result.unit)
        values = {
            "org": run.org, "project": run.project, "target": run.target, "benchmark": result.benchmark,
            "measure": result.measure, "unit": unit, "commit": run.commit, "branch": run.branch,
            "run_id": run.id, "host": run.host, "procs": result.labels.get("procs", ""),
        }  # fmt: skip
        labels = ",".join(f'{name}="{escape_label_value(values[name])}"' for name in BENCHMARK_VALUE.labels)
        lines.append(f"{BENCHMARK_VALUE.name}{{{labels}}} {value!r} {stamp}\n")
        if result.iterations is not None:
            lines.append(f"{BENCHMARK_ITERATIONS.name}{{{labels}}} {result.iterations} {stamp}\n")
    return "".join(lines), len(lines)


def reexport(vm_url: str | None, run: RunPublic, results: Sequence[ResultIn]) -> int:
    """Write the run's samples and markers; the number of samples written."""
    if not vm_url:
        raise NotConfigured("central has no VictoriaMetrics to write to: set BENCHHUB_CENTRAL_VM_URL")
    if ALLOWED_TRANSITIONS[run.state] or run.finished_at is None:
        raise Conflict(f"run {run.id} is {run.state.value}; only a run that is over can be re-exported")
    text, samples = results_text(run, results)
    markers = marker_text(run)
    try:
        httpx.post(
            f"{vm_url.rstrip('/')}/api/v1/import/prometheus", content=text + markers, timeout=30
        ).raise_for_status()
    except httpx.HTTPError as exc:
        raise UpstreamFailed(
            f"VictoriaMetrics at {vm_url} did not take the samples ({exc}); try again"
        ) from None
    return samples + markers.count("\n")
