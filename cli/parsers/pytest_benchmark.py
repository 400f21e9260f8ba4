"""pytest-benchmark ``--benchmark-json`` files (``framework: pytest-benchmark``).

One ``time`` result per benchmark in seconds, named by its ``fullname``; the headline value
is the median round. Every other statistic pytest-benchmark reports (ops, iqr, q1, q3,
outliers, ...), the group, params and extra_info go to the result's context; the per-round
times (``stats.data``, written by pytest-benchmark 5) are the samples.
"""

from __future__ import annotations

from cli.errors import ParseError
from cli.parsers.common import (
    arr,
    flat,
    integer,
    load_json,
    make_result,
    num,
    nums,
    obj,
    opt_num,
    prefixed,
    string,
)
from cli.wire import Result

_COMMON = ("min", "max", "mean", "stddev", "median", "rounds", "iterations", "data")


def _one(bench: dict[str, object], where: str) -> Result:
    name = string(bench.get("fullname") or bench.get("name"), f"{where}.fullname")
    context = prefixed("param", bench.get("params"), f"{where}.params")
    context |= prefixed("extra", bench.get("extra_info"), f"{where}.extra_info")
    if bench.get("group") is not None:
        context["group"] = flat(bench["group"])
    if bench.get("stats") is None:
        error = "pytest-benchmark recorded no statistics (the benchmark failed?)"
        return make_result(where, benchmark=name, measure="time", unit="s", context=context, error=error)
    stats = obj(bench["stats"], f"{where}.stats")
    rounds = integer(stats.get("rounds"), f"{where}.stats.rounds")
    per_round = integer(stats.get("iterations", 1), f"{where}.stats.iterations")
    context |= {k: flat(v) for k, v in stats.items() if k not in _COMMON}
    median = num(stats.get("median"), f"{where}.stats.median")
    return make_result(
        where, benchmark=name, measure="time", unit="s", value=median, median=median,
        mean=num(stats.get("mean"), f"{where}.stats.mean"),
        stddev=opt_num(stats.get("stddev"), f"{where}.stats.stddev"),
        min=num(stats.get("min"), f"{where}.stats.min"), max=num(stats.get("max"), f"{where}.stats.max"),
        iterations=rounds * per_round, sample_count=rounds,
        samples=nums(stats["data"], f"{where}.stats.data") if stats.get("data") is not None else None,
        context=context,
    )  # fmt: skip


def parse(text: str) -> list[Result]:
    """Every benchmark of the file; ParseError names the first field that is not as documented."""
    doc = obj(load_json(text), "document")
    benchmarks = arr(doc.get("benchmarks"), "benchmarks")
    if not benchmarks:
        raise ParseError("benchmarks: the file holds no benchmark (did every benchmark get skipped?)")
    results = []
    for i in range(len(benchmarks)):
        where = f"benchmarks[{i}]"
        results.append(_one(obj(benchmarks[i], where), where))
        benchmarks[i] = None  # its numbers live on in the result: memory stays near the input's size
    return results
