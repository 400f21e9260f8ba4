"""Google Benchmark ``--benchmark_format=json``, its console table and its CSV
(``framework: google-benchmark``).

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

import csv
import json
import re
from dataclasses import dataclass, field

from cli.errors import ParseError
from cli.parsers.common import arr, flat, integer, load_json, make_result, num, obj, stats_fields, string
from cli.wire import Result

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
            for key in ("big_o", "real_coefficient", "cpu_coefficient", "rms", "real_rms"):
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


def _results(name: str, run: _Run) -> list[Result]:
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


def parse(text: str) -> list[Result]:
    """Every benchmark of the file; ParseError names the first field that is not as documented."""
    if not text.lstrip().startswith("{") and (found := parse_text(text)) is not None:
        return found
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


# -- the console table and CSV (--benchmark_format=console, --benchmark_out_format=csv) ---------
# Both are turned into the rows the JSON has, then read the same way. What they lack: the
# console rounds (3+ significant digits; counters in k/M/G with 1024 for bytes_per_second, as
# SetBytesProcessed declares it, 1000 for every other counter: the console does not say),
# and neither gives threads or run_name (repetitions share a name; aggregates end in _mean...).

_CONSOLE_HEADER = r"^Benchmark +Time +CPU +Iterations\b.*$"
_CSV_HEADER = r"^name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,.*$"
CONSOLE_HEADER, CSV_HEADER = re.compile(_CONSOLE_HEADER, re.M), re.compile(_CSV_HEADER, re.M)
TEXT_LOOKS_LIKE = f"(?m:{_CONSOLE_HEADER})|(?m:{_CSV_HEADER})"  # for auto-detection
_AGGREGATES = ("mean", "median", "stddev", "cv", "BigO", "RMS")
_THREADS = re.compile(r"/threads:(\d+)(?:/|$)")
_TIME = r"(?P<{0}>[\d.]+(?:e[-+]?\d+)?) (?P<{0}_unit>ns|us|ms|s|%|[^\s=]+)"
_CONSOLE_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?:ERROR OCCURRED: '(?P<error>.*)'|SKIPPED: '(?P<skipped>.*)'|"
    + _TIME.format("real")
    + r"\s+"
    + _TIME.format("cpu")
    + r"(?:\s+(?P<iterations>\d+))?(?P<counters>.*))$"
)
_SI = {
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
}
_COUNTER = re.compile(r"^(?P<number>[-+]?[\d.]+(?:e[-+]?\d+)?)(?P<prefix>[kMGTPEmun]?)(?P<rate>/s)?$")


def _aggregate(name: str) -> tuple[str, str | None]:
    """(run name, aggregate) of a row name: ``BM_x/8_mean`` -> (``BM_x/8``, ``mean``)."""
    head, _, tail = name.rpartition("_")
    return (head, tail) if head and tail in _AGGREGATES else (name, None)


def _counter(key: str, text: str, where: str) -> float:
    m = _COUNTER.match(text)
    if m is None:
        raise ParseError(f"{where}: counter {key}={text!r}: expected a number with an optional k/M/G and /s")
    scale = _SI[m.group("prefix")]
    if key == "bytes_per_second" and m.group("prefix") in "kMGTPE" and m.group("prefix"):
        scale = 1024.0 ** ("kMGTPE".index(m.group("prefix")) + 1)
    return num(float(m.group("number")) * scale, where)


def _row(name: str, real: float | None, cpu: float | None, unit: str) -> dict[str, object]:
    run_name, aggregate = _aggregate(name)
    row: dict[str, object] = {"name": name, "run_name": run_name, "time_unit": unit}
    if (threads := _THREADS.search(run_name)) is not None:
        row["threads"] = int(threads.group(1))
    if aggregate == "BigO":
        row |= {
            "run_type": "aggregate",
            "aggregate_name": "BigO",
            "real_coefficient": real,
            "cpu_coefficient": cpu,
        }
    elif aggregate == "RMS":
        # the JSON's rms is the CPU fit's (its reporter writes the adjusted CPU time)
        row |= {"run_type": "aggregate", "aggregate_name": "RMS", "rms": cpu, "real_rms": real}
    elif aggregate is not None:
        row |= {"run_type": "aggregate", "aggregate_name": aggregate, "real_time": real, "cpu_time": cpu}
    else:
        row |= {"run_type": "iteration", "real_time": real, "cpu_time": cpu}
    return row


def _console_rows(text: str) -> list[object]:
    header = CONSOLE_HEADER.search(text)
    assert header is not None
    rows: list[object] = []
    unit = "ns"
    first_line = text.count("\n", 0, header.end()) + 2
    for number, line in enumerate(text[header.end() :].splitlines()[1:], first_line):
        where = f"line {number}"
        m = _CONSOLE_ROW.match(line.rstrip())
        if m is None or set(line.strip()) == {"-"}:
            continue  # the rule under the header, or what a benchmark printed itself
        name = m.group("name")
        if m.group("error") is not None or m.group("skipped") is not None:
            message = m.group("error") if m.group("error") is not None else m.group("skipped")
            rows.append({"name": name, "run_name": name, "time_unit": unit, "error_occurred": True,
                         "error_message": message})  # fmt: skip
            continue
        real, cpu = num(float(m.group("real")), where), num(float(m.group("cpu")), where)
        real_unit = m.group("real_unit")
        _, aggregate = _aggregate(name)
        if aggregate == "BigO":
            row = _row(name, real, cpu, unit) | {"big_o": real_unit}
        elif real_unit == "%":  # RMS and cv are printed as percentages
            row = _row(name, real / 100, cpu / 100, unit)
        else:
            unit = real_unit
            row = _row(name, real, cpu, unit)
        if m.group("iterations"):
            row["iterations"] = int(m.group("iterations"))
        for token in (m.group("counters") or "").split():
            key, eq, value = token.partition("=")
            if not eq:
                continue  # a label
            row[key] = _counter(key, value, where)
        rows.append(row)
    return rows


def _csv_rows(text: str) -> list[object]:
    header = CSV_HEADER.search(text)
    assert header is not None
    lines = text[header.start() :].splitlines()
    rows: list[object] = []
    unit = "ns"
    first_line = text.count("\n", 0, header.start()) + 1
    for number, record in enumerate(csv.DictReader(lines), first_line + 1):
        where = f"line {number}"
        name = record.get("name") or ""
        if not name:
            raise ParseError(f"{where}: name: expected a benchmark name")
        if (record.get("error_occurred") or "").lower() == "true":
            rows.append({"name": name, "run_name": name, "time_unit": unit, "error_occurred": True,
                         "error_message": record.get("error_message") or ""})  # fmt: skip
            continue

        def value(key: str, record: dict[str, str | None] = record, where: str = where) -> float | None:
            found = record.get(key)
            if found in (None, ""):
                return None
            try:
                return num(float(found), f"{where}: {key}")
            except ValueError:
                raise ParseError(f"{where}: {key}: {found!r} is not a number") from None

        real, cpu = value("real_time"), value("cpu_time")
        _, aggregate = _aggregate(name)
        if aggregate == "BigO":
            row = _row(name, real, cpu, unit) | {"big_o": record.get("time_unit") or "?"}
        else:
            unit = record.get("time_unit") or unit
            row = _row(name, real, cpu, unit)
        if (iterations := value("iterations")) is not None:
            row["iterations"] = int(iterations)
        for key in (
            "bytes_per_second",
            "items_per_second",
            *(k for k in record if k not in _CSV_FIXED and k),
        ):
            if (counted := value(key)) is not None:
                row[key] = counted
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


_CSV_FIXED = {"name", "iterations", "real_time", "cpu_time", "time_unit", "bytes_per_second",
              "items_per_second", "label", "error_occurred", "error_message"}  # fmt: skip


def parse_text(text: str) -> list[Result] | None:
    """Results of a console table or CSV, or None when the text is neither."""
    if CSV_HEADER.search(text):
        rows = _csv_rows(text)
    elif CONSOLE_HEADER.search(text):
        rows = _console_rows(text)
    else:
        return None
    if not rows:
        raise ParseError(
            "no benchmark row under Google Benchmark's header (did --benchmark_filter match none?)"
        )
    return [result for name, run in _collect(rows).items() for result in _results(name, run)]
