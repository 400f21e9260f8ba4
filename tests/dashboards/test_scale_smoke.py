"""make bench-scale at a small size (50 benchmarks x 20 runs): both layouts seeded into real
VictoriaMetrics servers and every query of the four columns run. A smoke test: it times
nothing."""

from __future__ import annotations

import re

import pytest

from tests.bench import scale

RUN_QUESTIONS = {"benchhub-run panel 'Results of the run' A", "benchhub-run variable run_id",
                 "benchhub-run variable host"}  # fmt: skip


def test_the_scale_benchmark_runs_and_the_new_layout_answers_every_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 45 days: the history spans two or three months (each force-merged)
    found = scale.main(["--benchmarks", "50", "--runs", "20", "--reps", "1", "--days", "45"])
    outcomes = found[20]
    assert set(outcomes) == {"v1", "v2r", "v2m", "v2"}
    # every question about benchmark series answers with data (the bench seeds no host or
    # process series, no change point and no regression for the alert rule)
    asked = [w for w in outcomes["v2"] if w.startswith(("benchhub-trends", "ad hoc")) or w in RUN_QUESTIONS]
    asked.remove("benchhub-trends annotation 'Change points'")
    assert len(asked) >= 15
    empty = sorted(w for w in asked if not outcomes["v2"][w][0].ok)
    assert not empty, empty
    # the trends graphs asked as Grafana asks them: 250 points at most over the 45 days, a
    # point every 3 h (4.3 h rounded), their window ($__interval) the same
    graphs = scale.graphs(outcomes["v2"])
    assert len(graphs) == 2 and all(step == 10800 and "[10800s]" in expr for expr, step in graphs.values()), (
        graphs
    )
    printed = capsys.readouterr().out
    assert "## R = 20 runs" in printed and "v2:" in printed and "series" in printed
    # the graphs at each of Grafana's steps: runs 2.25 days apart are a point each at any of
    # them, 10 lines (the $top picked) x 20 runs on the results graph
    steps = printed.split("the graphs at Grafana's steps", 1)[1].splitlines()
    # (the change graph: a point per run but the first, which has no runs before it)
    for title, each in (("Results over time", 200), ("Size of the change", 190)):
        line = next(line for line in steps if line.startswith(f"benchhub-trends panel '{title}"))
        points = [int(x) for x in re.findall(r"(?:^|\s)(\d+)\s+\d+\.\d", line.split("'", 2)[2])]
        assert points == [each] * len(scale.graph_steps(45)), line
