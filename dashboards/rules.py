"""vmalert rules: an alert per open regression central found, from the metric catalog.

Central detects the change points (central/changepoints.py) and exposes the regressions they
opened as ``benchhub_regressions_open`` on its /metrics, which vmagent scrapes; this rule
turns each into an alert that vmalert notifies (central's Alertmanager endpoint, or any).
The old median-of-10 +-10% rule is gone: on labelled histories it found 53% of the steps at
11% precision (make bench-detect). The evaluation interval is a ``${name}`` placeholder that
``bhubctl stack up`` fills from its settings (cli.stack.fill).
"""

from __future__ import annotations

from typing import Any

from exporter.metrics import REGRESSIONS_OPEN

BY = ", ".join(REGRESSIONS_OPEN.labels)


def groups() -> dict[str, Any]:
    """The rules file (vmalert's Prometheus-compatible format)."""
    return {
        "groups": [
            {
                "name": "benchhub-regressions",
                "interval": "${evaluation_interval}",
                "rules": [
                    {
                        "alert": "BenchmarkRegression",
                        "expr": f"max by ({BY}) ({REGRESSIONS_OPEN.family}) > 0",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "{{ $labels.benchmark }} ({{ $labels.measure }}) regressed on "
                            "{{ $labels.project }}/{{ $labels.branch }}",
                            "description": "central found a change point that made {{ $labels.benchmark }} "
                            "({{ $labels.measure }}) of {{ $labels.target }} worse; see 'bhubctl regressions "
                            "--project {{ $labels.project }}' for the suspect commits and the size.",
                        },
                    }
                ],
            },
        ]
    }
