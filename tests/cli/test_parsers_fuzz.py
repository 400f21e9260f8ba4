"""Nothing but ParseError ever escapes a parser: arbitrary and mutated real inputs (hypothesis)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.schemas import ResultsIn
from cli.errors import ParseError
from cli.parsers import FRAMEWORKS, Document, detect, parse_documents
from cli.wire import Result

DATA = Path(__file__).parents[1] / "data"
REAL = {
    "go": ["go/features.txt", "go/strings-count3.txt", "go/failing.txt"],
    "go-json": ["go/features.json", "go/failing.json"],
    "pytest-benchmark": ["pytest-benchmark/sorting.json"],
    "google-benchmark": [
        "google-benchmark/repetitions.json",
        "google-benchmark/single.json",
        "google-benchmark/complexity.json",
        "google-benchmark/console.txt",
        "google-benchmark/results.csv",
        "google-benchmark/complexity-console.txt",
    ],
    "hyperfine": ["hyperfine/scan.json", "hyperfine/failing.json"],
    "criterion": ["criterion/bencher.txt", "criterion/criterion/sum 1000/new/estimates.json"],
    "pyperf": ["pyperf/suite.json", "pyperf/timeit.json"],
    "json": [],
    "catch2": ["catch2/benchmarks.xml", "catch2/console.txt", "catch2/console-long.txt"],
    "mitata": ["mitata/mitata.json"],
    "jmh": ["jmh/constructed.json"],
    "vitest": ["vitest/vitest.json"],
    "benchmarkdotnet": ["benchmarkdotnet/constructed-report-full.json"],
    "asv": ["asv/results/vm/e9801b77-existing.json"],
    "benchmarkjs": ["benchmarkjs/benchmarkjs.txt"],
    "benchmark-ips": ["benchmark-ips/ips.txt", "benchmark-ips/ips.json"],
    "rust-libtest": ["rust-libtest/bench.txt", "rust-libtest/failing.txt"],
}
BENCHHUB_JSON = json.dumps({"benchhub": 1, "results": [
    {"benchmark": "a", "measure": "time", "unit": "s", "samples": [1.0, 2.0]},
    {"benchmark": "b", "measure": "time", "unit": "s", "error": "x"},
]})  # fmt: skip
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Values that break code trusting a field's type, then any JSON at all.
HOSTILE = st.sampled_from([True, 7, -1, 1.5, 1e308, "x", "", [], {}, [1], [None], {"a": 1}, None])
JSON_VALUES = HOSTILE | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def real_inputs(framework: str) -> list[str]:
    return [(DATA / p).read_text() for p in REAL[framework]] or [BENCHHUB_JSON]


def only_parse_errors(framework: str, text: str) -> None:
    try:
        results = parse_documents(framework, [Document("fuzzed", text)])
    except ParseError as exc:
        assert str(exc), "a ParseError must say what is wrong"
        return
    assert all(isinstance(r, Result) for r in results)
    # what bhubctl sends, central takes: its own schema accepts every result the parser made
    ResultsIn.model_validate_json(msgspec.json.encode({"results": results}))


def test_the_fuzzed_frameworks_are_all_of_them() -> None:
    assert set(REAL) == set(FRAMEWORKS)


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text(framework: str, text: str) -> None:
    only_parse_errors(framework, text)


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@FUZZ
@given(data=st.data())
def test_mutated_real_output(framework: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(real_inputs(framework)))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(at, min(len(text), at + 40)))
        kind = data.draw(st.sampled_from(["truncate", "delete", "insert", "replace"]))
        insert = data.draw(st.text(max_size=12)) if kind in ("insert", "replace") else ""
        if kind == "truncate":
            text = text[:at]
        else:
            text = text[:at] + insert + text[end if kind != "insert" else at :]
    only_parse_errors(framework, text)


Path_ = tuple[str | int, ...]


def _paths(doc: object, at: Path_ = ()) -> list[Path_]:
    found = [at]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*at, index))
    return found


def _replaced(doc: object, path: Path_, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replaced(doc[head], rest, value)}
    assert isinstance(doc, list) and isinstance(head, int)
    return [*doc[:head], _replaced(doc[head], rest, value), *doc[head + 1 :]]


def _pick_path(doc: object, data: st.DataObject) -> Path_:
    """Every field name equally likely (then one of its occurrences), so rare fields get hit."""
    by_name: dict[str, list[Path_]] = {}
    for path in _paths(doc):
        by_name.setdefault(str(path[-1]) if path and isinstance(path[-1], str) else "[]", []).append(path)
    name = data.draw(st.sampled_from(sorted(by_name)))
    return data.draw(st.sampled_from(by_name[name]))


@pytest.mark.parametrize(
    "framework",
    sorted(k for k in FRAMEWORKS if k not in ("go", "go-json", "catch2", "rust-libtest", "benchmarkjs")),
)
@FUZZ
@given(data=st.data())
def test_real_json_with_a_wrongly_typed_node(framework: str, data: st.DataObject) -> None:
    texts = [t for t in real_inputs(framework) if t.lstrip().startswith(("{", "["))]
    doc = json.loads(data.draw(st.sampled_from(texts)))
    only_parse_errors(framework, json.dumps(_replaced(doc, _pick_path(doc, data), data.draw(JSON_VALUES))))


@FUZZ
@given(text=st.text(max_size=400))
def test_detect_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        assert detect(text) in FRAMEWORKS
