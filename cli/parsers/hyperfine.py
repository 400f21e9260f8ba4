"""hyperfine ``--export-json`` files (``framework: hyperfine``).

One ``time`` result per command in seconds: the median of its timed runs (the samples),
with hyperfine's mean/stddev/min/max; user/system seconds, parameter values (``-P``/``-L``
scans) and the count of runs that exited non-zero (``-i``) go to context.
"""

from __future__ import annotations

from cli.errors import ParseError
from cli.parsers.common import (
    arr,
    flat,
    load_json,
    make_result,
    num,
    nums,
    obj,
    opt_num,
    prefixed,
    stats_fields,
    string,
)
from cli.wire import Result


def _one(row: dict[str, object], where: str) -> Result:
    command = string(row.get("command"), f"{where}.command")
    times = nums(row.get("times"), f"{where}.times")
    if not times:
        raise ParseError(f"{where}.times: expected at least one timed run")
    fields = stats_fields(times)
    for stat in ("mean", "stddev", "min", "max", "median"):
        if row.get(stat) is not None:
            fields[stat] = num(row[stat], f"{where}.{stat}")
    context = prefixed("param", row.get("parameters"), f"{where}.parameters")
    for key in ("user", "system"):
        if (seconds := opt_num(row.get(key), f"{where}.{key}")) is not None:
            context[f"{key}_seconds"] = flat(seconds)
    failed = [code for code in arr(row.get("exit_codes") or [], f"{where}.exit_codes") if code != 0]
    if failed:
        context["failed_runs"] = str(len(failed))
    return make_result(
        where, benchmark=command, measure="time", unit="s", value=fields["median"],
        iterations=len(times), context=context, **fields,
    )  # fmt: skip


def parse(text: str) -> list[Result]:
    """Every command of the file; ParseError names the first field that is not as documented."""
    rows = arr(obj(load_json(text), "document").get("results"), "results")
    if not rows:
        raise ParseError("results: the file holds no benchmarked command")
    return [_one(obj(row, f"results[{i}]"), f"results[{i}]") for i, row in enumerate(rows)]
