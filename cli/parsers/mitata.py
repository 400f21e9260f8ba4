"""mitata's JSON (``framework: mitata``): ``await run({ format: "json" })`` (or with
``{ json: { samples: false, debug: false } }`` for a smaller file).

One ``time`` result (ns, as mitata measures) per run of a benchmark: the median (``p50``) as
the value, ``avg`` as the mean, ``min``/``max``, the samples when the file has them; p25, p75,
p99, p999, the iterations measured (``ticks``), the group and the average heap use in context.
A run's ``args`` (``bench(...).args(...)``) are its labels; a run that threw is a failed result.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import arr, check_count, flat, load_json, make_result, num, nums, obj, string
from cli.wire import Result

LOOKS_LIKE = re.compile(r'\A\s*\{\s*"layout"\s*:(?=[\s\S]*?"benchmarks")')
_CONTEXT = ("p25", "p75", "p99", "p999", "ticks")


def _group(layout: list[object], index: object) -> str | None:
    entry = layout[index] if isinstance(index, int) and 0 <= index < len(layout) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    return name if isinstance(name, str) else None


def parse(text: str) -> list[Result]:
    doc = obj(load_json(text), "document")
    layout = arr(doc.get("layout", []), "layout")
    results = []
    for i, raw in enumerate(arr(doc.get("benchmarks"), "benchmarks")):
        where = f"benchmarks[{i}]"
        bench = obj(raw, where)
        group = _group(layout, bench.get("group"))
        for j, raw_run in enumerate(arr(bench.get("runs"), f"{where}.runs")):
            at = f"{where}.runs[{j}]"
            run = obj(raw_run, at)
            name = string(run.get("name") or bench.get("alias"), f"{at}.name")
            args = obj(run.get("args") or {}, f"{at}.args")
            labels = {str(k): flat(v) for k, v in args.items()}
            context = {"group": group} if group else {}
            if run.get("error") is not None or run.get("stats") is None:
                error = run.get("error")
                message = (
                    flat(obj(error, f"{at}.error").get("message", error)) if isinstance(error, dict) else None
                )
                message = message or "the benchmark threw"
                results.append(make_result(at, benchmark=name, measure="time", unit="ns", labels=labels,
                                           error=message, context=context))  # fmt: skip
                continue
            stats = obj(run["stats"], f"{at}.stats")
            for key in _CONTEXT:
                if stats.get(key) is not None:
                    num(stats[key], f"{at}.stats.{key}")
                    context[key] = flat(stats[key])
            heap = stats.get("heap")
            if isinstance(heap, dict) and heap.get("avg") is not None:
                context["heap_avg_bytes"] = flat(num(heap["avg"], f"{at}.stats.heap.avg"))
            samples = nums(stats["samples"], f"{at}.stats.samples") if stats.get("samples") else None
            median = num(stats.get("p50"), f"{at}.stats.p50")
            results.append(make_result(
                at, benchmark=name, measure="time", unit="ns", value=median, median=median,
                mean=num(stats.get("avg"), f"{at}.stats.avg"), min=num(stats.get("min"), f"{at}.stats.min"),
                max=num(stats.get("max"), f"{at}.stats.max"), samples=samples,
                sample_count=len(samples) if samples else None, labels=labels, context=context,
            ))  # fmt: skip
            check_count(len(results))
    if not results:
        raise ParseError("benchmarks: the file holds no benchmark run")
    return results
