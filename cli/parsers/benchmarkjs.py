"""Benchmark.js (``framework: benchmarkjs``): the lines ``String(benchmark)`` prints, as its
docs' ``on("cycle", e => console.log(String(e.target)))`` does.

``RegExp#test x 45,124,651 ops/sec ±9.69% (68 runs sampled)``: an ``ops`` result in ``ops/s``
(higher is better; benchmark.js rounds it to a whole number above 100), its relative margin of
error (±%) in context, the runs sampled as ``sample_count``. Other lines (``Fastest is ...``)
are not results.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import check_count, make_result, text_number
from cli.wire import Result

LINE = re.compile(
    r"^(?P<name>.+?) x (?P<hz>[\d,]+(?:\.\d+)?) ops/sec \xb1(?P<rme>[\d.]+)% "
    r"\((?P<runs>\d+) runs? sampled\)[ \t]*$",
    re.MULTILINE,
)
LOOKS_LIKE = re.compile(r"(?m)^.+ x [\d,]+(?:\.\d+)? ops/sec \xb1[\d.]+% \(\d+ runs? sampled\)")


def parse(text: str) -> list[Result]:
    results = []
    for m in LINE.finditer(text):
        where = f"line {text.count(chr(10), 0, m.start()) + 1}"
        hz, rme = text_number(m.group("hz"), where), text_number(m.group("rme"), where)
        context = {"rme_percent": m.group("rme"), "moe": repr(hz * rme / 100)}
        results.append(make_result(where, benchmark=m.group("name").strip(), measure="ops", unit="ops/s",
                                   value=hz, sample_count=int(m.group("runs")),
                                   context=context))  # fmt: skip
        check_count(len(results))
    if not results:
        raise ParseError(
            "no Benchmark.js result: expected lines like 'name x 1,234 ops/sec ±0.50% (90 runs sampled)'"
        )
    return results
