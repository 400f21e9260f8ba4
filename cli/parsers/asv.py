"""airspeed velocity's results (``framework: asv``): the JSON ``asv run`` writes under
``.asv/results/<machine>/<commit>-<env>.json`` (format version 2), with ``benchmarks.json``
(one folder up) for each benchmark's unit and parameter names when it is among the files read
(``output: .asv/results/**/*.json``).

One result per benchmark and parameter combination: the value asv recorded (its median for
timings), in the benchmark's unit (``seconds``, ``bytes``, or a ``track_`` benchmark's own);
``time_``/``timeraw_`` -> ``time``, ``mem_`` -> ``memory``, ``peakmem_`` -> ``peak_memory``,
``track_`` -> ``value``. The parameters are labels (``n=1000``); asv's quartiles and 99%
interval go to context, its repeat count to ``sample_count`` and repeat x number to
``iterations``; the commit and machine to context. A benchmark that failed (no value) is a
failed result. ``machine.json`` is not a result file and is skipped.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from pathlib import PurePath

from cli.errors import ParseError
from cli.parsers.common import Document, arr, check_count, flat, load_json, make_result, obj, string
from cli.wire import Result

LOOKS_LIKE = re.compile(
    r'\A(?=\s*\{)(?=[\s\S]*?"result_columns")(?=[\s\S]*?"results")(?=[\s\S]*?"commit_hash")'
)
_KINDS = {"time": ("time", "seconds"), "timeraw": ("time", "seconds"), "mem": ("memory", "bytes"),
          "peakmem": ("peak_memory", "bytes"), "track": ("value", "count")}  # fmt: skip
_TYPES = {"time": "time", "memory": "mem", "peakmemory": "peakmem", "track": "track"}
_STATS = ("stats_q_25", "stats_q_75", "stats_ci_99_a", "stats_ci_99_b", "stats_number", "stats_repeat")


def _kind(name: str, info: dict[str, object]) -> tuple[str, str]:
    declared = _TYPES.get(str(info.get("type", "")))
    prefix = declared or name.rpartition(".")[2].split("_", 1)[0]
    measure, unit = _KINDS.get(prefix, ("value", "count"))
    if isinstance(info.get("unit"), str) and info["unit"] not in ("", "unit"):
        unit = str(info["unit"])
    return measure, unit


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _results(doc: dict[str, object], infos: dict[str, dict[str, object]], where: str) -> list[Result]:
    columns = [
        string(c, f"{where}.result_columns[]")
        for c in arr(doc.get("result_columns"), f"{where}.result_columns")
    ]
    context = {"commit": flat(doc.get("commit_hash", "")), "env": flat(doc.get("env_name", ""))}
    machine = doc.get("params")
    if isinstance(machine, dict) and machine.get("machine"):
        context["machine"] = flat(machine["machine"])
    found = []
    for name, raw in obj(doc.get("results"), f"{where}.results").items():
        at = f"{where}.results.{name}"
        row = dict(zip(columns, arr(raw, at), strict=False))
        info = infos.get(name, {})
        measure, unit = _kind(name, info)
        params = [arr(p, f"{at}.params[]") for p in arr(row.get("params") or [], f"{at}.params")]
        declared = info.get("param_names")
        names: list[object] = declared if isinstance(declared, list) else []
        combos = list(itertools.product(*params)) if params else [()]
        values = row.get("result")
        values = arr(values, f"{at}.result") if values is not None else [None] * len(combos)
        if len(values) != len(combos):
            raise ParseError(f"{at}.result: {len(values)} values for {len(combos)} parameter combinations")
        for index, (combo, value) in enumerate(zip(combos, values, strict=True)):
            labels = {str(names[i]) if i < len(names) else f"param{i + 1}": flat(v)
                      for i, v in enumerate(combo)}  # fmt: skip
            stats = {key.removeprefix("stats_"): column[index] for key in _STATS
                     if isinstance(column := row.get(key), list) and index < len(column)}  # fmt: skip
            extra = {
                k: flat(v)
                for k, v in stats.items()
                if k not in ("number", "repeat") and _number(v) is not None
            }
            number = _number(value)
            if number is None:
                found.append(make_result(at, benchmark=name, measure=measure, unit=unit, labels=labels,
                                         error="asv recorded no value: the benchmark failed (see asv's log)",
                                         context=context))  # fmt: skip
                continue
            repeat, per_sample = _number(stats.get("repeat")), _number(stats.get("number"))
            median = number if measure == "time" else None
            found.append(make_result(
                at, benchmark=name, measure=measure, unit=unit, value=number, median=median,
                sample_count=int(repeat) if repeat else None,
                iterations=int(repeat * per_sample) if repeat and per_sample else None,
                labels=labels, context={**context, **extra},
            ))  # fmt: skip
            check_count(len(found))
    return found


def parse_documents(docs: Sequence[Document]) -> list[Result]:
    infos: dict[str, dict[str, object]] = {}
    result_docs = []
    for doc in docs:
        data = obj(load_json(doc.text), doc.name)
        if "result_columns" in data or "results" in data:
            result_docs.append((doc.name, data))
        elif PurePath(doc.name).name == "benchmarks.json":
            infos |= {k: v for k, v in data.items() if isinstance(v, dict)}
        # machine.json and other asv files hold no result
    if not result_docs:
        raise ParseError(
            "no asv result file among the files read: expected .asv/results/<machine>/<commit>-<env>.json"
        )
    found = []
    for name, data in result_docs:
        if data.get("version") != 2:
            raise ParseError(f"{name}: version: expected asv's results format 2, got {data.get('version')!r}")
        found += _results(data, infos, name)
    return found


def parse(text: str) -> list[Result]:
    return parse_documents([Document("results.json", text)])
