"""Go ``testing`` benchmark text output (``go test -bench``).

Each result line is ``BenchmarkName[-PROCS] <iterations> <value> <unit> [<value> <unit>]...``.
The -PROCS suffix becomes a ``procs`` label; ``-count`` repeats of a name become samples
(the headline value is their median); ``goos/goarch/pkg/cpu`` headers become context;
``--- FAIL: BenchmarkX`` becomes a failed result carrying the first log line after it; other
lines (logs, PASS, ok, panics) are skipped, so the results before a crash are kept. Units
stay as Go prints them (ns/op, B/op, allocs/op, MB/s, custom).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterator
from itertools import chain

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.common import make_result, stats_fields, with_checked_samples

# Used only to locate a bad result line for the error message (the fast path splits lines).
_RESULT_LINE = re.compile(r"^(Benchmark\S*)[ \t]+(\d+)[ \t]+([^\n]*)", re.MULTILINE)
_PROCS = re.compile(r"^(.*?)-(\d+)$")
_MEASURES = {"ns/op": "time", "B/op": "alloc_bytes", "allocs/op": "allocs", "MB/s": "throughput"}
_Key = tuple[str, str, str, str]  # name, measure, unit, procs


def _split_name(name: str) -> tuple[str, str]:
    m = _PROCS.match(name)
    return (m.group(1), m.group(2)) if m else (name, "")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _log_of(line: str) -> str:
    """A log line (indented) as the failure's message; ``go test -json`` prints it before FAIL."""
    return line.strip() if line[:1] in (" ", "\t") and line.strip() else "the benchmark failed"


def _number(text: str, pos: int, bench: str, value_text: str, unit: str) -> float:
    try:
        value = float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ParseError(
            f"benchmark {bench!r}: {value_text!r} is not a number (before unit {unit!r})", _line_of(text, pos)
        )
    return value


def _first_error(text: str) -> ParseError:
    """The slow path, taken only when the fast one met a bad line: find it and say where."""
    for m in _RESULT_LINE.finditer(text):
        bench, fields = m.group(1), m.group(3).split()
        if len(fields) % 2:
            return ParseError(
                f"benchmark {bench!r}: expected '<value> <unit>' pairs after the "
                f"iteration count, got {m.group(3)!r}",
                _line_of(text, m.start()),
            )
        for value_text, unit in zip(fields[::2], fields[1::2], strict=True):
            _number(text, m.start(), bench, value_text, unit)
    return ParseError("a benchmark line holds a value that is not a finite number")


class _Series:
    """The samples of one benchmark line shape, interleaved: v0 v1 v2 v0 v1 v2 ... per column."""

    __slots__ = ("iterations", "units", "values")

    def __init__(self, units: list[str]) -> None:
        self.units = units
        self.values = array("d")
        self.iterations = 0

    def columns(self) -> list[array[float]]:
        width = len(self.units)
        return [self.values[i::width] for i in range(width)]


_Scan = tuple[dict[tuple[str, tuple[str, ...]], _Series], dict[tuple[str, str], str], dict[str, str]]
_CHUNK = 4 << 20  # lines are split a few MB at a time: memory stays near the input's size
_HEADERS = ("goos:", "goarch:", "pkg:", "cpu:")


def _chunks(text: str) -> Iterator[list[str]]:
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + _CHUNK)
        end = len(text) if end < 0 else end + 1
        yield text[pos:end].split("\n")
        pos = end


def _scan(text: str) -> _Scan:
    """One pass over the lines; the hot path is a split and C-level float conversion."""
    series: dict[tuple[str, tuple[str, ...]], _Series] = {}
    latest: dict[str, _Series] = {}  # bench -> its series of the last line shape seen
    failures: dict[tuple[str, str], str] = {}
    context: dict[str, str] = {}
    failed: str | None = None  # a '--- FAIL' line waiting for its log line
    previous = ""
    get_latest = latest.get
    for lines in _chunks(text):
        for line in lines:
            if failed is not None:
                log = line.strip() if line[:1] in (" ", "\t") else ""
                failures.setdefault(_split_name(failed), log or _log_of(previous))
                failed = None
            if line.startswith("Benchmark"):
                parts = line.split()
                count = parts[1] if len(parts) > 2 else ""
                if not (count.isdigit() and count.isascii()):
                    previous = line
                    continue  # the name alone, printed before a benchmark's logs
                units = parts[3::2]
                entry = get_latest(parts[0])
                if entry is None or entry.units != units:
                    if len(parts) % 2 == 1:
                        raise _first_error(text)
                    entry = series.setdefault((parts[0], tuple(units)), _Series(units))
                    latest[parts[0]] = entry
                try:
                    entry.values.extend(map(float, parts[2::2]))
                except ValueError:
                    raise _first_error(text) from None
                entry.iterations += int(count)
            elif line.startswith("--- FAIL: Benchmark"):
                failed = line.split()[2]
                continue  # keep 'previous': go -json prints the log line before this one
            elif line.startswith(_HEADERS):
                key, _, value = line.partition(":")
                context[key] = value.strip()
            previous = line
    if failed is not None:
        failures.setdefault(_split_name(failed), _log_of(previous))
    return series, failures, context


def parse(text: str) -> list[ResultIn]:
    """Results of every benchmark line; ParseError if a result line is malformed or none exist."""
    series, failures, context = _scan(text)
    if not series and not failures:
        raise ParseError(
            "no Go benchmark result found: expected lines like "
            "'BenchmarkName-8  1000000  1052 ns/op' (did the command run with -bench?)"
        )
    # Arrays are released as soon as their values moved on: peak memory stays near the input's.
    columns: dict[_Key, list[array[float]]] = {}
    iterations: dict[_Key, int] = {}
    for shape in list(series):
        (bench, units), entry = shape, series.pop(shape)
        name, procs = _split_name(bench)
        for unit, column in zip(units, entry.columns(), strict=True):
            key = (name, _MEASURES.get(unit, unit), unit, procs)
            columns.setdefault(key, []).append(column)
            iterations[key] = iterations.get(key, 0) + entry.iterations
    results = []
    for key in list(columns):
        values = list(chain.from_iterable(columns.pop(key)))
        name, measure, unit, procs = key
        try:
            stats = stats_fields(values)
        except ParseError:
            raise _first_error(text) from None
        if not (math.isfinite(stats["mean"]) and math.isfinite(stats["stddev"] or 0.0)):
            raise _first_error(text)  # a nan or inf among the values (their sum is not finite)
        stats["samples"] = None
        result = make_result(
            name, benchmark=name, measure=measure, unit=unit, value=stats["median"],
            iterations=iterations[key], labels={"procs": procs} if procs else {},
            context=dict(context), **stats,
        )  # fmt: skip
        results.append(with_checked_samples(result, values) if len(values) > 1 else result)
    for (name, procs), error in failures.items():
        results.append(
            make_result(
                name, benchmark=name, measure="time", unit="ns/op", error=error,
                labels={"procs": procs} if procs else {}, context=dict(context),
            )
        )  # fmt: skip
    return results
