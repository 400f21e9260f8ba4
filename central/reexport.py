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
from exporter.collectors.benchmark import result_families
from exporter.exposition import render
from exporter.schemas import RunResults


def results_text(run: RunPublic, results: Sequence[ResultIn]) -> tuple[str, int]:
    """Prometheus text of the run's results (the agent's own series), and how many samples it holds."""
    assert run.finished_at is not None
    # Built without validation: these results were validated when central stored them, and a
    # run may hold more of them than one agent push is allowed.
    as_pushed = RunResults.model_construct(
        run_id=run.id, org=run.org, project=run.project, target=run.target, commit=run.commit,
        branch=run.branch, timestamp=run.finished_at, results=list(results),
    )  # fmt: skip
    families = result_families([as_pushed], run.host)
    return render(families).decode(), sum(len(f.samples) for f in families)


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
