"""Rust's libtest benchmarks (``framework: rust-libtest``): what ``cargo bench`` prints for
``#[bench]`` functions, and what criterion prints with ``-- --output-format bencher``.

``test NAME ... bench: 1,234.56 ns/iter (+/- 78.9) = 7062 MB/s``: the median time per
iteration (libtest's headline), ``(+/- N)`` libtest's spread, the max - min of its samples
after winsorizing (context ``range``), ``= N MB/s`` when the benchmark sets ``b.bytes`` (a
``throughput`` result). ``test NAME ... FAILED`` (a panicking benchmark) is a failed result;
``ignored`` and test lines are not results.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import flat, make_result, text_number
from cli.wire import Result

LINE = re.compile(
    r"^test (?P<name>.+?) +\.\.\. (?:bench:\s+(?P<value>[\d,.]+) (?P<unit>\S+)"
    r"(?: \(\+/- (?P<dev>[\d,.]+)\))?(?: = (?P<mbs>[\d,.]+) MB/s)?|(?P<failed>FAILED))[ \t]*$",
    re.MULTILINE,
)


def results(text: str, spread: str, tool: str) -> list[Result]:
    """The results of libtest's bench lines; ``spread``: the context key of ``(+/- N)``."""
    found = []
    for m in LINE.finditer(text):
        where = f"line {text.count(chr(10), 0, m.start()) + 1}"
        name = m.group("name")
        if m.group("failed"):
            found.append(make_result(name, benchmark=name, measure="time", unit="ns/iter",
                                     error=f"the benchmark failed ({tool} printed FAILED)"))  # fmt: skip
            continue
        context = {spread: flat(text_number(m.group("dev"), where))} if m.group("dev") else {}
        value = text_number(m.group("value"), where)
        found.append(make_result(where, benchmark=name, measure="time", unit=m.group("unit"), value=value,
                                 median=value, context=context))  # fmt: skip
        if m.group("mbs"):
            found.append(make_result(where, benchmark=name, measure="throughput", unit="MB/s",
                                     value=text_number(m.group("mbs"), where)))  # fmt: skip
    return found


def parse(text: str) -> list[Result]:
    found = results(text, "range", "libtest")
    if not found:
        raise ParseError("no libtest benchmark found: expected 'test name ... bench: 1,234 ns/iter (+/- 5)' "
                         "lines (cargo bench of #[bench] functions)")  # fmt: skip
    return found
