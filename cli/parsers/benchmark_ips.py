"""Ruby's benchmark-ips (``framework: benchmark-ips``): its JSON (``x.json! "file"``) or its text.

One ``ips`` result (iterations per second, ``i/s``, higher is better) per report: the JSON's
``central_tendency`` (``ips`` in older versions) with its ``stddev``, the iterations it ran and
the measured microseconds and iterations per 100 ms cycle in context. The text gives the same
from the "Calculating" lines (``24.176M (±12.0%) i/s - 23.843M in 1.005970s``: scaled by
k/M/B/T, the ± a percentage of the ips) and, when ``x.compare!`` printed it, the unrounded ips
of the "Comparison" section. Names longer than benchmark-ips' 20 columns sit on a line of their
own above their numbers.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import arr, flat, load_json, make_result, num, obj, string, text_number
from cli.wire import Result

LOOKS_LIKE = re.compile(
    r"(?m:^Calculating -{5,}\s*$)|\A\s*\[\s*\{(?=[\s\S]*?\"(?:central_tendency|ips)\")(?=[\s\S]*?\"cycles\")"
)
_SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12, "Q": 1e15}
_NUMBER = r"([\d.]+)([kMBTQ]?)"
_CALCULATED = re.compile(
    r"^(?P<name>.*?)\s*"
    + _NUMBER
    + r" \(±\s*(?P<pct>[\d.]+)%\) i/s -\s+"
    + _NUMBER
    + r" in\s+(?P<secs>[\d.]+)s\s*$"
)
_COMPARED = re.compile(r"^\s*(?P<name>.*?):\s+(?P<ips>\d+(?:\.\d+)?) i/s\b")


def _scaled(number: str, suffix: str, where: str) -> float:
    return num(text_number(number, where) * _SCALE[suffix], where)


def _from_json(text: str) -> list[Result]:
    results = []
    for i, raw in enumerate(arr(load_json(text), "document")):
        where = f"[{i}]"
        row = obj(raw, where)
        name = string(row.get("name"), f"{where}.name")
        ips = num(row.get("central_tendency", row.get("ips")), f"{where}.central_tendency")
        stddev = row.get("stddev", row.get("error"))
        iterations = int(num(row["iterations"], f"{where}.iterations")) if row.get("iterations") else None
        context = {key: flat(row[key]) for key in ("microseconds", "cycles") if row.get(key) is not None}
        results.append(make_result(where, benchmark=name, measure="ips", unit="i/s", value=ips, mean=ips,
                                   stddev=num(stddev, f"{where}.stddev") if stddev is not None else None,
                                   iterations=iterations, context=context))  # fmt: skip
    return results


def _from_text(text: str) -> list[Result]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Calculating -")), None)
    if start is None:
        raise ParseError("no 'Calculating ----' section: expected benchmark-ips' report")
    compared: dict[str, float] = {}
    rows: list[tuple[str, float, float, float, float, str]] = []
    pending = ""
    for number, line in enumerate(lines[start + 1 :], start + 2):
        where = f"line {number}"
        if not line.strip() or line.startswith("Comparison:"):
            if rows:
                break
            continue
        m = _CALCULATED.match(line)
        if m is None:
            pending = line.strip()  # a long name, its numbers on the next line
            continue
        name = m.group("name").strip() or pending
        pending = ""
        ips = _scaled(m.group(2), m.group(3), where)
        rows.append((name, ips, float(m.group("pct")), _scaled(m.group(5), m.group(6), where),
                     num(float(m.group("secs")), where), where))  # fmt: skip
    for line in lines[start:]:
        if (c := _COMPARED.match(line)) is not None:
            compared[c.group("name").strip()] = float(c.group("ips"))
    if not rows:
        raise ParseError(
            "no benchmark-ips result: expected lines like 'name  1.234M (± 1.2%) i/s - 6.1M in 5.0s'"
        )
    results = []
    for name, ips, pct, iterations, seconds, where in rows:
        ips = compared.get(name, ips)  # the unrounded figure, when compare! printed one
        context = {"seconds": flat(seconds), "stddev_percent": flat(pct)}
        results.append(make_result(where, benchmark=name, measure="ips", unit="i/s", value=ips, mean=ips,
                                   stddev=ips * pct / 100, iterations=round(iterations),
                                   context=context))  # fmt: skip
    return results


def parse(text: str) -> list[Result]:
    if text.lstrip().startswith("["):
        return _from_json(text)
    return _from_text(text)
