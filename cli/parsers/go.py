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

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.common import make_result, stats_fields

# Only the lines that matter are visited (the regex engine skips the rest), so a huge log
# costs one scan and no per-line Python work.
_INTERESTING = re.compile(
    r"^(?:(Benchmark\S*)[ \t]+(\d+)[ \t]+([^\n]*?)[ \t]*$"
    r"|--- FAIL: (Benchmark\S*)[^\n]*(?:\n[ \t]+([^\n]*))?"
    r"|(goos|goarch|pkg|cpu): ([^\n]*))",
    re.MULTILINE,
)
_PROCS = re.compile(r"^(.*?)-(\d+)$")
_MEASURES = {"ns/op": "time", "B/op": "alloc_bytes", "allocs/op": "allocs", "MB/s": "throughput"}
_Key = tuple[str, str, str, str]  # name, measure, unit, procs


def _split_name(name: str) -> tuple[str, str]:
    m = _PROCS.match(name)
    return (m.group(1), m.group(2)) if m else (name, "")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _log_before(text: str, pos: int) -> str:
    """The log line just above ``pos`` (``go test -json`` prints it before ``--- FAIL``)."""
    start = text.rfind("\n", 0, max(pos - 1, 0)) + 1
    line = text[start : max(pos - 1, start)]
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


def parse(text: str) -> list[ResultIn]:
    """Results of every benchmark line; ParseError if a result line is malformed or none exist."""
    samples: dict[_Key, list[float]] = {}
    iterations: dict[_Key, int] = {}
    failures: dict[tuple[str, str], str] = {}
    context: dict[str, str] = {}
    for m in _INTERESTING.finditer(text):
        if m.group(6):
            context[m.group(6)] = m.group(7).strip()
            continue
        if m.group(4):
            name, procs = _split_name(m.group(4))
            failures.setdefault((name, procs), (m.group(5) or "").strip() or _log_before(text, m.start()))
            continue
        bench = m.group(1)
        name, procs = _split_name(bench)
        fields = m.group(3).split()
        if len(fields) % 2:
            raise ParseError(
                f"benchmark {bench!r}: expected '<value> <unit>' pairs after the "
                f"iteration count, got {m.group(3)!r}",
                _line_of(text, m.start()),
            )
        count = int(m.group(2))
        for value_text, unit in zip(fields[::2], fields[1::2], strict=True):
            key = (name, _MEASURES.get(unit, unit), unit, procs)
            samples.setdefault(key, []).append(_number(text, m.start(), bench, value_text, unit))
            iterations[key] = iterations.get(key, 0) + count
    if not samples and not failures:
        raise ParseError(
            "no Go benchmark result found: expected lines like "
            "'BenchmarkName-8  1000000  1052 ns/op' (did the command run with -bench?)"
        )
    results = []
    for key, values in samples.items():
        name, measure, unit, procs = key
        stats = stats_fields(values)
        if len(values) == 1:
            stats["samples"] = None
        results.append(
            make_result(
                name, benchmark=name, measure=measure, unit=unit, value=stats["median"],
                iterations=iterations[key], labels={"procs": procs} if procs else {},
                context=dict(context), **stats,
            )
        )  # fmt: skip
    for (name, procs), error in failures.items():
        results.append(
            make_result(
                name, benchmark=name, measure="time", unit="ns/op", error=error,
                labels={"procs": procs} if procs else {}, context=dict(context),
            )
        )  # fmt: skip
    return results
