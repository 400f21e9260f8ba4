"""Vitest's benchmark report (``framework: vitest``): ``vitest bench --run --outputJson out.json``,
the statistics of tinybench (which Vitest measures with) for every ``bench()``.

One ``time`` result (ms, as tinybench measures) per benchmark, named ``<group> > <name>``
(the group is the file and its ``describe`` blocks): the median as the value, with mean,
standard deviation (``sd``), min, max, the sample count and the samples when Vitest kept them;
hz, the relative margin of error (``rme``), p75/p99/p995/p999 and the rank in its group go to
context.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import (
    arr,
    check_count,
    flat,
    load_json,
    make_result,
    num,
    nums,
    obj,
    opt_num,
    stat_fields,
    string,
)
from cli.wire import Result

LOOKS_LIKE = re.compile(r'\A\s*\{\s*"files"\s*:(?=[\s\S]*?"groups")(?=[\s\S]*?"benchmarks")')
_CONTEXT = ("hz", "rme", "p75", "p99", "p995", "p999", "rank")


def parse(text: str) -> list[Result]:
    doc = obj(load_json(text), "document")
    results = []
    for f, raw_file in enumerate(arr(doc.get("files"), "files")):
        for g, raw_group in enumerate(arr(obj(raw_file, f"files[{f}]").get("groups"), f"files[{f}].groups")):
            where = f"files[{f}].groups[{g}]"
            group = obj(raw_group, where)
            full = string(group.get("fullName"), f"{where}.fullName")
            for b, raw_bench in enumerate(arr(group.get("benchmarks"), f"{where}.benchmarks")):
                at = f"{where}.benchmarks[{b}]"
                bench = obj(raw_bench, at)
                name = f"{full} > {string(bench.get('name'), f'{at}.name')}"
                context = {
                    key: flat(bench[key]) for key in _CONTEXT if isinstance(bench.get(key), int | float)
                }
                samples = nums(bench["samples"], f"{at}.samples") if bench.get("samples") else None
                count = opt_num(bench.get("sampleCount"), f"{at}.sampleCount")
                median = num(bench.get("median"), f"{at}.median")
                results.append(make_result(
                    at, benchmark=name, measure="time", unit="ms", value=median, median=median,
                    **stat_fields(bench, at, mean="mean", stddev="sd", min="min", max="max"),
                    sample_count=int(count) if count is not None else None, samples=samples, context=context,
                ))  # fmt: skip
                check_count(len(results))
    if not results:
        raise ParseError("files: the report holds no benchmark (did the filter select none?)")
    return results
