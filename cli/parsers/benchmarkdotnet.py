"""BenchmarkDotNet's full JSON report (``framework: benchmarkdotnet``): the
``*-report-full.json`` that ``[JsonExporterAttribute.Full]`` / ``--exporters json`` writes to
``BenchmarkDotNet.Artifacts/results/``.

Written from BenchmarkDotNet's documented JSON exporter format (``Title``,
``HostEnvironmentInfo``, ``Benchmarks``: each with ``Type``, ``Method``, ``Parameters``,
``Statistics`` in nanoseconds, ``Memory`` and ``Measurements``); .NET cannot run it here.

Per benchmark (``Type.Method``, the ``Parameters`` as labels): a ``time`` result in ns, the
median as the value, with mean, standard deviation, min, max and N; the samples are
``Statistics.OriginalValues`` or, in older reports, the ``Workload``/``Result`` measurements
per operation; quartiles, the confidence interval's margin and bounds, the job and namespace in
context. ``Memory.BytesAllocatedPerOperation`` (with ``[MemoryDiagnoser]``) becomes an
``alloc_bytes`` result with the GC collections in context. ``Statistics: null`` (the
benchmark failed) is a failed result.
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
    obj,
    opt_num,
    stat_fields,
    string,
)
from cli.wire import Result

LOOKS_LIKE = re.compile(r'\A(?=\s*\{)(?=[\s\S]*?"HostEnvironmentInfo")(?=[\s\S]*?"Benchmarks")')
_GC = ("Gen0Collections", "Gen1Collections", "Gen2Collections", "TotalOperations")
_JOB = re.compile(r":\s*(?P<job>[^\[]+?)\s*(?:\[|$)")


def _labels(parameters: object) -> dict[str, str]:
    """``N=1000&Mode=Fast`` (or comma-separated) -> {"N": "1000", "Mode": "Fast"}."""
    text = parameters if isinstance(parameters, str) else ""
    pairs = (part.partition("=") for part in re.split(r"[&,]\s*", text) if "=" in part)
    return {key.strip(): value.strip() for key, _, value in pairs}


def _samples(bench: dict[str, object], stats: dict[str, object], where: str) -> list[float] | None:
    if isinstance(stats.get("OriginalValues"), list):
        return [num(v, f"{where}.Statistics.OriginalValues[]") for v in arr(stats["OriginalValues"], where)]
    found = []
    for m in arr(bench.get("Measurements") or [], f"{where}.Measurements"):
        row = obj(m, f"{where}.Measurements[]")
        if row.get("IterationMode") == "Workload" and row.get("IterationStage") == "Result":
            operations = num(row.get("Operations"), f"{where}.Measurements[].Operations")
            if operations > 0:
                found.append(num(row.get("Nanoseconds"), f"{where}.Measurements[].Nanoseconds") / operations)
    return found or None


def parse(text: str) -> list[Result]:
    doc = obj(load_json(text), "document")
    benches = arr(doc.get("Benchmarks"), "Benchmarks")
    if not benches:
        raise ParseError("Benchmarks: the report holds no benchmark")
    results = []
    for i, raw in enumerate(benches):
        where = f"Benchmarks[{i}]"
        bench = obj(raw, where)
        name = (
            f"{string(bench.get('Type'), f'{where}.Type')}.{string(bench.get('Method'), f'{where}.Method')}"
        )
        labels = _labels(bench.get("Parameters"))
        context = {"namespace": flat(bench.get("Namespace") or "")}
        if isinstance(bench.get("DisplayInfo"), str) and (job := _JOB.search(str(bench["DisplayInfo"]))):
            context["job"] = job.group("job")
        if bench.get("Statistics") is None:
            results.append(make_result(where, benchmark=name, measure="time", unit="ns", labels=labels,
                                       error="BenchmarkDotNet recorded no statistics: the benchmark failed",
                                       context=context))  # fmt: skip
            continue
        stats = obj(bench["Statistics"], f"{where}.Statistics")
        interval = obj(stats.get("ConfidenceInterval") or {}, f"{where}.Statistics.ConfidenceInterval")
        extra = {key.lower(): flat(stats[key]) for key in ("Q1", "Q3") if stats.get(key) is not None}
        extra |= {f"ci_{key.lower()}": flat(interval[key]) for key in ("Margin", "Lower", "Upper")
                  if interval.get(key) is not None}  # fmt: skip
        samples = _samples(bench, stats, where)
        n = opt_num(stats.get("N"), f"{where}.Statistics.N")
        median = num(stats.get("Median"), f"{where}.Statistics.Median")
        results.append(make_result(
            where, benchmark=name, measure="time", unit="ns", value=median, median=median,
            **stat_fields(stats, f"{where}.Statistics", mean="Mean", stddev="StandardDeviation", min="Min",
                          max="Max"),
            sample_count=int(n) if n is not None else None, samples=samples, labels=labels,
            context={**context, **extra},
        ))  # fmt: skip
        memory = bench.get("Memory")
        if isinstance(memory, dict) and memory.get("BytesAllocatedPerOperation") is not None:
            allocated = num(
                memory["BytesAllocatedPerOperation"], f"{where}.Memory.BytesAllocatedPerOperation"
            )
            gc = context | {key: flat(memory[key]) for key in _GC if memory.get(key) is not None}
            results.append(make_result(where, benchmark=name, measure="alloc_bytes", unit="B",
                                       value=allocated, labels=labels, context=gc))  # fmt: skip
        check_count(len(results))
    return results
