"""Google Benchmark ``--benchmark_format=json`` (``framework: google-benchmark``).

Per ``run_name``: a ``time`` result (real time) and a ``cpu_time`` result in the file's
``time_unit``, whose samples are the repetitions and whose mean/median/stddev come from the
aggregate rows when the tool wrote them (``cv`` goes to context); ``bytes_per_second`` and
``items_per_second`` become ``throughput`` (B/s) and ``items_per_second`` (items/s) results;
user counters become results named after the counter (unit ``count``). A benchmark that
reported ``error_occurred`` or was skipped is a failed result with the tool's message.

``Complexity()`` fits (the ``BigO`` and ``RMS`` aggregate rows of a family) become a
``big_o_coefficient`` result in the time unit (real time), with the fitted order (``N^2``,
``NlgN``...), the CPU coefficient and the normalized RMS error in its context. A file cut off
by a crashing benchmark keeps every complete row as results, plus a failed result saying
where it stopped (the run fails; its results are kept, as for Go).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.common import arr, flat, integer, load_json, make_result, num, obj, stats_fields, string

_FIXED = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
    "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "skipped", "skip_message",
    "label",
}  # fmt: skip
_MEASURES = {
    "real_time": ("time", None), "cpu_time": ("cpu_time", None),
    "bytes_per_second": ("throughput", "B/s"), "items_per_second": ("items_per_second", "items/s"),
}  # fmt: skip


@dataclass
class _Run:
    unit: str
    iterations: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)
    aggregates: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None
    threads: str = "1"
    fit: dict[str, str] = field(default_factory=dict)  # BigO / RMS of a Complexity() family


def _error_of(row: dict[str, object]) -> str | None:
    if row.get("error_occurred") is True or row.get("skipped") not in (None, False, 0):
        message = row.get("error_message") or row.get("skip_message")
        return flat(message) if message else "the benchmark reported an error"
    return None


def _collect(rows: list[object]) -> dict[str, _Run]:
    runs: dict[str, _Run] = {}
    for i, raw in enumerate(rows):
        where = f"benchmarks[{i}]"
        row = obj(raw, where)
        name = string(row.get("run_name") or row.get("name"), f"{where}.run_name")
        run = runs.setdefault(name, _Run(unit=string(row.get("time_unit", "ns"), f"{where}.time_unit")))
        run.threads = flat(row.get("threads", 1))
        if (error := _error_of(row)) is not None:
            run.error = error
            continue
        metrics = {k: v for k, v in row.items() if k not in _FIXED}
        metrics |= {k: row[k] for k in ("real_time", "cpu_time") if k in row}
        if row.get("run_type") == "aggregate" and row.get("aggregate_name") in ("BigO", "RMS"):
            for key in ("big_o", "real_coefficient", "cpu_coefficient", "rms"):
                if key in row:
                    value = row[key]
                    run.fit[key] = flat(value) if key == "big_o" else repr(num(value, f"{where}.{key}"))
            continue
        if row.get("run_type") == "aggregate":
            aggregate = string(row.get("aggregate_name"), f"{where}.aggregate_name")
            for metric, value in metrics.items():
                run.aggregates.setdefault(metric, {})[aggregate] = num(value, f"{where}.{metric}")
            continue
        run.iterations += integer(row.get("iterations", 0), f"{where}.iterations")
        for metric, value in metrics.items():
            run.samples.setdefault(metric, []).append(num(value, f"{where}.{metric}"))
    return runs


def _results(name: str, run: _Run) -> list[ResultIn]:
    context = {"threads": run.threads}
    if run.error is not None and not run.samples:
        return [
            make_result(name, benchmark=name, measure="time", unit=run.unit, error=run.error, context=context)
        ]
    results = []
    if "real_coefficient" in run.fit:
        fit_context = {**context, **{k: v for k, v in run.fit.items() if k != "real_coefficient"}}
        results.append(
            make_result(name, benchmark=name, measure="big_o_coefficient", unit=run.unit,
                        value=float(run.fit["real_coefficient"]), context=fit_context)
        )  # fmt: skip
    for metric in sorted(run.samples.keys() | run.aggregates.keys()):
        measure, unit = _MEASURES.get(metric, (metric, "count"))
        unit = unit or run.unit
        samples = run.samples.get(metric) or []
        aggregate = run.aggregates.get(metric, {})
        fields = stats_fields(samples) if samples else {}
        if len(samples) == 1:
            fields["samples"] = None
        for stat in ("mean", "median", "stddev"):
            if stat in aggregate:
                fields[stat] = aggregate[stat]
        value = fields.get("median", fields.get("mean"))
        if value is None:
            continue
        metric_context = dict(context)
        if "cv" in aggregate:
            metric_context["cv"] = flat(aggregate["cv"])
        results.append(
            make_result(
                name, benchmark=name, measure=measure, unit=unit, value=value,
                iterations=run.iterations or None, context=metric_context, **fields,
            )
        )  # fmt: skip
    return results


def _complete_rows(text: str) -> list[object] | None:
    """The complete objects of a ``"benchmarks": [`` array that the file ends inside, or None."""
    start = text.find('"benchmarks"')
    start = text.find("[", start) if start >= 0 else -1
    if start < 0:
        return None
    decoder, at = json.JSONDecoder(), start + 1
    rows: list[object] = []
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            return None if at < len(text) else rows  # a closed array is no truncation
        try:
            row, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return rows
        rows.append(row)


def parse(text: str) -> list[ResultIn]:
    """Every benchmark of the file; ParseError names the first field that is not as documented."""
    try:
        doc = obj(load_json(text), "document")
    except ParseError:
        rows = _complete_rows(text)
        if not rows:
            raise
        results = [result for name, run in _collect(rows).items() for result in _results(name, run)]
        stopped = flat(obj(rows[-1], "benchmarks[-1]").get("name", "?"))
        message = (f"the output ends after {len(rows)} complete rows (last: {stopped}): the tool stopped "
                   "mid-run (crashed?); the complete rows are kept")  # fmt: skip
        return [*results, make_result("end of file", benchmark="(output cut off)", measure="time", unit="ns",
                                      error=message)]  # fmt: skip
    rows = arr(doc.get("benchmarks"), "benchmarks")
    if not rows:
        raise ParseError("benchmarks: the file holds no benchmark (did --benchmark_filter match none?)")
    return [result for name, run in _collect(rows).items() for result in _results(name, run)]
