"""The PR report and the compare table, from a fixed comparison (no server needed)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from central.compare_schemas import ComparisonPublic
from cli.compare_view import grafana_links, markdown, tables

GOLDEN = Path(__file__).parent / "golden" / "compare_report.md"
_EMPTY = {"regressed": 0, "improved": 0, "unchanged": 0, "insufficient": 0, "added": 0, "removed": 0}


def _row(
    name: str, verdict: str, base: float | None, head: float | None, **extra: object
) -> dict[str, object]:
    def side(centre: float | None) -> dict[str, object] | None:
        if centre is None:
            return None
        return {"centre": centre, "low": centre * 0.98, "high": centre * 1.01, "n": 10, "runs": 1}

    change = head / base - 1 if base and head else None
    return {"target": "strings", "benchmark": name, "measure": "time", "labels": {}, "unit": "ns/op",
            "direction": "lower", "base": side(base), "head": side(head), "change": change,
            "p_value": 0.0001 if verdict in ("regressed", "improved") else 0.4,
            "adjusted_p": 0.0004 if verdict in ("regressed", "improved") else 0.6,
            "test": "mwu", "verdict": verdict, **extra}  # fmt: skip


def comparison() -> ComparisonPublic:
    rows = [
        _row("BenchmarkEncode", "regressed", 4012.0, 4413.2),
        _row("BenchmarkParse|pipe", "improved", 1500.0, 1200.0, labels={"procs": "8"}),
        _row("BenchmarkSame", "unchanged", 100.0, 100.5),
        _row("BenchmarkNew", "added", None, None, test=None, p_value=None, adjusted_p=None),
    ]
    counts = {**_EMPTY, "regressed": 1, "improved": 1, "unchanged": 1, "added": 1}
    target = {"target": "strings", "base_runs": ["1" * 36], "head_runs": ["2" * 36], "base_commit": "a" * 40,
              "head_commit": "b" * 40, "geomean": 0.987, "counts": counts,
              "head_span": ["2026-11-30T10:00:00Z", "2026-11-30T10:02:30Z"]}  # fmt: skip
    return ComparisonPublic.model_validate({
        "org": "acme", "project": "shop", "base": "run:1", "head": "run:2", "confidence": 0.95,
        "targets": [target], "counts": counts, "data": rows, "count": len(rows),
    })  # fmt: skip


def test_markdown_report_matches_the_golden_file() -> None:
    made = comparison()
    report = markdown(made, "strings @ bbbbbbb vs main @ aaaaaaa", "Baseline: the merge-base of HEAD and main.",
                      grafana_links("https://grafana.example.com/", made))  # fmt: skip
    if os.environ.get("BENCHHUB_UPDATE_GOLDEN"):
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8"), (
        "the report changed: if that is meant, BENCHHUB_UPDATE_GOLDEN=1 pytest tests/cli/test_compare_view.py"
    )


def test_the_report_lists_only_changed_results_and_escapes_names() -> None:
    text = markdown(comparison(), "t")
    table = text.split("<details>")[1]
    assert "BenchmarkEncode" in table and "BenchmarkParse\\|pipe [procs=8]" in table
    assert "BenchmarkSame" not in table
    assert table.index("BenchmarkEncode") < table.index("BenchmarkParse")  # regressions first
    assert "**1 regressed, 1 improved, 1 unchanged, 1 added**" in text


def test_table_fits_80_columns_and_reads_like_benchstat() -> None:
    console = Console(width=80, record=True)
    for table in tables(comparison()):
        console.print(table)
    text = console.export_text()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "BenchmarkEncode " in text  # a usual name keeps one line
    assert "4.01 µs ±2%" in text and "4.41 µs ±2%" in text and "+10.00%" in text and "0.000" in text
    only = Console(width=80, record=True)
    for table in tables(comparison(), only_changed=True):
        only.print(table)
    changed = only.export_text()
    assert "BenchmarkSame" not in changed and "BenchmarkEncode" in changed


def test_the_report_says_when_base_and_head_ran_on_different_machines() -> None:
    made = comparison()
    assert "machine differs" not in markdown(made, "t")
    made.targets[0].machine = ["governor: performance → powersave", "boost: off → on"]
    assert "⚠️ strings: the machine differs: governor: performance → powersave; boost: off → on" in markdown(
        made, "t"
    )
