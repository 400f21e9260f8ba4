"""Go ``testing`` benchmark text output (``go test -bench``).

Each result line is ``BenchmarkName[-PROCS] <iterations> <value> <unit> [<value> <unit>]...``.
The -PROCS suffix becomes a ``procs`` label; ``-count`` repeats of a name become samples
(the headline value is their median); other lines (logs, PASS, ok, goos/pkg headers) are
skipped. Units stay as Go prints them (ns/op, B/op, allocs/op, MB/s, custom).
"""

from __future__ import annotations

import re

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.stats import summarize

_LINE = re.compile(r"^(Benchmark\S*)\s+(\d+)\s+(.+?)\s*$")
_PROCS = re.compile(r"^(.*?)-(\d+)$")
_MEASURES = {"ns/op": "time", "B/op": "alloc_bytes", "allocs/op": "allocs", "MB/s": "throughput"}


def _split_name(name: str) -> tuple[str, dict[str, str]]:
    m = _PROCS.match(name)
    return (m.group(1), {"procs": m.group(2)}) if m else (name, {})


def parse(text: str) -> list[ResultIn]:
    """Results of every benchmark line; ParseError if a result line is malformed or none exist."""
    samples: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], list[float]] = {}
    iterations: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            continue
        name, labels = _split_name(m.group(1))
        fields = m.group(3).split()
        if len(fields) % 2:
            raise ParseError(
                f"benchmark {m.group(1)!r}: expected '<value> <unit>' pairs after the "
                f"iteration count, got {m.group(3)!r}",
                number,
            )
        for value_text, unit in zip(fields[::2], fields[1::2], strict=True):
            try:
                value = float(value_text)
            except ValueError:
                raise ParseError(
                    f"benchmark {m.group(1)!r}: {value_text!r} is not a number (before unit {unit!r})",
                    number,
                ) from None
            key = (name, _MEASURES.get(unit, unit), unit, tuple(sorted(labels.items())))
            samples.setdefault(key, []).append(value)
            iterations[key] = iterations.get(key, 0) + int(m.group(2))
    if not samples:
        raise ParseError(
            "no Go benchmark result found: expected lines like "
            "'BenchmarkName-8  1000000  1052 ns/op' (did the command run with -bench?)"
        )
    results = []
    for key, values in samples.items():
        name, measure, unit, label_items = key
        s = summarize(values)
        results.append(
            ResultIn(
                benchmark=name, measure=measure, unit=unit, value=s.median,
                iterations=iterations[key], mean=s.mean, median=s.median, stddev=s.stddev,
                min=s.min, max=s.max, sample_count=s.count,
                samples=values if len(values) > 1 else None, labels=dict(label_items),
            )
        )  # fmt: skip
    return results
