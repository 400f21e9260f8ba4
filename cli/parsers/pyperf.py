"""pyperf JSON files (``framework: pyperf``): a suite (``-o suite.json``) or one benchmark.

One result per benchmark named by its ``name`` metadata, in pyperf's unit (``second`` -> s,
``byte`` -> B, ``integer`` -> count); the samples are the values of every run (warmups and
calibration runs left out), the headline value their median. Metadata of the file and of
the benchmark (python version, cpu, loops, ...) go to context.
"""

from __future__ import annotations

from cli.errors import ParseError
from cli.parsers.common import arr, flat, load_json, make_result, nums, obj, stats_fields, string
from cli.wire import Result

_UNITS = {"second": "s", "byte": "B", "integer": "count"}
_CONTEXT = ("python_version", "python_implementation", "cpu_model_name", "hostname", "platform", "timer")


def _one(bench: dict[str, object], common: dict[str, object], where: str) -> Result:
    metadata = common | obj(bench.get("metadata") or {}, f"{where}.metadata")
    name = string(metadata.get("name"), f"{where}.metadata.name")
    values: list[float] = []
    loops = 0
    for i, raw in enumerate(arr(bench.get("runs"), f"{where}.runs")):
        run = obj(raw, f"{where}.runs[{i}]")
        run_values = nums(run.get("values") or [], f"{where}.runs[{i}].values")
        run_meta = metadata | obj(run.get("metadata") or {}, f"{where}.runs[{i}].metadata")
        per_value = run_meta.get("loops", 1)
        inner = run_meta.get("inner_loops", 1)
        if isinstance(per_value, int) and isinstance(inner, int):
            loops += per_value * inner * len(run_values)
        values.extend(run_values)
    if not values:
        raise ParseError(f"{where}.runs: no run has values (only calibration or warmup runs)")
    unit = flat(metadata.get("unit", "second"))
    fields = stats_fields(values)
    context = {key: flat(metadata[key]) for key in _CONTEXT if key in metadata}
    return make_result(
        where, benchmark=name, measure="time" if unit == "second" else unit, unit=_UNITS.get(unit, unit),
        value=fields["median"], iterations=loops or None, context=context, **fields,
    )  # fmt: skip


def parse(text: str) -> list[Result]:
    """Every benchmark of the file; ParseError names the first field that is not as documented."""
    doc = obj(load_json(text), "document")
    common = obj(doc.get("metadata") or {}, "metadata")
    benchmarks = arr(doc.get("benchmarks"), "benchmarks")
    if not benchmarks:
        raise ParseError("benchmarks: the file holds no benchmark")
    return [_one(obj(b, f"benchmarks[{i}]"), common, f"benchmarks[{i}]") for i, b in enumerate(benchmarks)]
