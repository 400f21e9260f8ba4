"""vmalert rules: per-benchmark baselines (recording) and regression alerts, from dashboards.queries.

The alert threshold, the watched branches and the evaluation interval are ``${name}``
placeholders that ``bhubctl stack up`` fills from its settings (cli.stack.fill).
"""

from __future__ import annotations

from typing import Any

from dashboards import queries as q

BASELINE = "benchhub:benchmark_baseline:median"
LATEST = "benchhub:benchmark_latest:value"
WINDOW = "30d"
RUNS = "10"
WATCHED = 'branch=~"${watched_branches}"'
HIGHER = "|".join(q.HIGHER_IS_BETTER)


def groups() -> dict[str, Any]:
    """The rules file (vmalert's Prometheus-compatible format)."""
    worse_lower = f'{LATEST}{{measure!~"{HIGHER}"}} > on({q.KEY}) {BASELINE} * (1 + ${{threshold}})'
    worse_higher = f'{LATEST}{{measure=~"{HIGHER}"}} < on({q.KEY}) {BASELINE} * (1 - ${{threshold}})'
    return {
        "groups": [
            {
                "name": "benchhub-baselines",
                "interval": "${evaluation_interval}",
                "rules": [
                    {
                        "record": LATEST,
                        "expr": f"sum by ({q.KEY}) ({q.latest(WATCHED, WINDOW)})",
                    },
                    {
                        "record": BASELINE,
                        "expr": q.baseline(WATCHED, WINDOW, RUNS),
                    },
                ],
            },
            {
                "name": "benchhub-regressions",
                "interval": "${evaluation_interval}",
                "rules": [
                    {
                        "alert": "BenchmarkRegression",
                        "expr": f"({worse_lower}) or ({worse_higher})",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "{{ $labels.benchmark }} ({{ $labels.measure }}) regressed on "
                            "{{ $labels.project }}/{{ $labels.branch }}",
                            "description": "The newest run of {{ $labels.benchmark }} is {{ $value }} "
                            f"{{{{ $labels.unit }}}}; the median of the {RUNS} runs before it is beyond "
                            "the ${threshold_percent}% threshold.",
                        },
                    }
                ],
            },
        ]
    }
