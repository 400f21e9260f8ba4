"""asv's results: the values of a real ``asv run`` read back from its own JSON."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from cli.errors import ParseError
from cli.parsers import Document, detect, parse_documents

RESULTS = Path(__file__).parents[1] / "data" / "asv" / "results"
RUN = RESULTS / "vm" / "e9801b77-existing.json"


def docs(*paths: Path) -> list[Document]:
    return [Document(str(p), p.read_text()) for p in paths]


def test_every_benchmark_and_parameter_with_benchmarks_json_beside_it() -> None:
    raw = json.loads(RUN.read_text())
    info = json.loads((RESULTS / "benchmarks.json").read_text())
    columns = raw["result_columns"]
    results = parse_documents("asv", docs(RUN, RESULTS / "benchmarks.json", RESULTS / "vm" / "machine.json"))
    expected = {}
    for name, entry in raw["results"].items():
        row = dict(zip(columns, entry, strict=False))
        combos = list(itertools.product(*row["params"])) or [()]
        for combo, value in zip(combos, row["result"] or [None] * len(combos), strict=True):
            labels = dict(zip(info[name]["param_names"], combo, strict=True))
            expected[(name, tuple(sorted(labels.items())))] = value
    got = {(r.benchmark, tuple(sorted(r.labels.items()))): r for r in results}
    assert set(got) == set(expected) and len(results) == 8
    for key, value in expected.items():
        assert got[key].value == value
    by_name = {r.benchmark: r for r in results if not r.labels}
    assert (by_name["bench_sums.mem_list"].measure, by_name["bench_sums.mem_list"].unit) == (
        "memory",
        "bytes",
    )
    assert (by_name["bench_sums.track_answer"].measure, by_name["bench_sums.track_answer"].unit) == (
        "value",
        "count",  # asv's default unit, "unit", is a plain count
    )
    assert by_name["bench_sums.time_broken"].error and by_name["bench_sums.time_broken"].value is None
    join, join_row = (
        by_name["bench_sums.time_join"],
        dict(zip(columns, raw["results"]["bench_sums.time_join"], strict=False)),
    )
    assert (join.unit, join.sample_count, join.iterations) == (
        "seconds", join_row["stats_repeat"][0], join_row["stats_repeat"][0] * join_row["stats_number"][0],
    )  # fmt: skip
    assert (
        join.context["q_25"] == str(join_row["stats_q_25"][0])
        and join.context["commit"] == raw["commit_hash"]
    )


def test_alone_the_result_file_names_parameters_by_position_and_is_detected() -> None:
    results = parse_documents("auto", docs(RUN))
    assert {tuple(r.labels) for r in results if r.labels} == {("param1",)}
    assert detect(RUN.read_text()) == "asv"
    with pytest.raises(ParseError, match="no asv result file"):
        parse_documents("asv", docs(RESULTS / "vm" / "machine.json"))
    with pytest.raises(ParseError, match="expected asv's results format 2"):
        parse_documents("asv", [Document("old.json", '{"version": 1, "results": {}, "result_columns": []}')])
