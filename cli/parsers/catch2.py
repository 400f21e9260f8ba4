"""Catch2's XML reporter, ``-r xml``, and its console table (``framework: catch2``).

One ``time`` result per ``BenchmarkResults`` (a ``BENCHMARK`` of a test case), in ns as
Catch2 writes them: the value and mean are Catch2's mean estimate, ``stddev`` its standard
deviation; the bootstrap confidence bounds of both, the outlier counts and variance, the test
case and its tags go to context; ``sample_count`` is Catch2's samples and ``iterations`` the
samples times the iterations per sample. A benchmark name in two test cases gets the test
case as a label (its identity); a benchmark that failed (a ``failed`` element) is a failed
result with Catch2's message.

Parsed with the standard library: expat 2.4.1 and newer refuse entity-expansion bombs
(billion laughs) and ElementTree resolves no external entity.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal, InvalidOperation

import msgspec

from cli.errors import ParseError
from cli.parsers.common import check_count, make_result
from cli.wire import Result


def _number(element: ET.Element, attribute: str, where: str) -> float:
    text = element.get(attribute)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ParseError(f"{where}: {attribute}={text!r} is not a finite number")
    return value


def _result(bench: ET.Element, case: ET.Element, where: str) -> Result:
    name = bench.get("name") or ""
    context = {"test_case": case.get("name", ""), "tags": case.get("tags", "")}
    failed = bench.find("failed")
    if failed is not None:
        message = (failed.get("message") or failed.text or "the benchmark failed").strip()
        return make_result(where, benchmark=name, measure="time", unit="ns", error=message, context=context)
    mean, deviation = bench.find("mean"), bench.find("standardDeviation")
    if mean is None or deviation is None:
        raise ParseError(f"{where}: expected <mean> and <standardDeviation> in BenchmarkResults {name!r}")
    samples = int(_number(bench, "samples", where))
    per_sample = int(_number(bench, "iterations", where))
    value = _number(mean, "value", f"{where}.mean")
    for part, element in (("mean", mean), ("stddev", deviation)):
        for bound in ("lowerBound", "upperBound"):
            if element.get(bound) is not None:
                context[f"{part}_{bound.removesuffix('Bound')}"] = repr(_number(element, bound, where))
    if mean.get("ci") is not None:
        context["ci"] = mean.get("ci", "")
    outliers = bench.find("outliers")
    if outliers is not None:
        for key, text in outliers.attrib.items():
            context[f"outliers_{key}"] = text
    return make_result(
        where, benchmark=name, measure="time", unit="ns", value=value, mean=value,
        stddev=_number(deviation, "value", f"{where}.standardDeviation"), sample_count=samples,
        iterations=samples * per_sample, context=context,
    )  # fmt: skip


def parse(text: str) -> list[Result]:
    """Every benchmark of the report; ParseError names what is not as Catch2 writes it."""
    if not text.lstrip().startswith("<") and CONSOLE_HEADER.search(text):
        return parse_console(text)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError(f"invalid XML: {exc} (truncated output?)", line) from None
    if root.tag != "Catch":
        raise ParseError(f"expected Catch2's XML report (<Catch>), got <{root.tag}>")
    found = [(case, bench) for case in root.iter("TestCase") for bench in case.iter("BenchmarkResults")]
    if not found:
        raise ParseError("no <BenchmarkResults> in the report: did the test filter select no BENCHMARK?")
    check_count(len(found))
    return _labelled(
        [_result(bench, case, f"BenchmarkResults[{i}]") for i, (case, bench) in enumerate(found)]
    )


# -- the console reporter (the default) ---------------------------------------------------------
# Each benchmark is three lines under the header "benchmark name / samples / iterations /
# estimated": name, samples, iterations per sample, estimated total; mean with its bootstrap low
# and high; standard deviation with its low and high. Names longer than the column wrap onto
# lines of their own before the numbers. The test case is the title between two rules above.

CONSOLE_HEADER = re.compile(r"(?m)^benchmark name +samples +iterations +estimated[ \t]*$")
LOOKS_LIKE = re.compile(
    r"\A\s*(<\?xml[^>]*>\s*)?<Catch[\s>]|(?m:^benchmark name +samples +iterations +estimated)"
)
_DURATION = r"([\d.]+(?:e[-+]?\d+)?) (ns|us|ms|s)"
_FIRST = re.compile(r"^(?P<name>.*?)\s+(?P<samples>\d+)\s+(?P<iterations>\d+)\s+" + _DURATION + r"\s*$")
_TRIPLE = re.compile(r"^\s+" + r"\s+".join([_DURATION] * 3) + r"\s*$")
_NS = {"ns": Decimal(1), "us": Decimal(1000), "ms": Decimal(10**6), "s": Decimal(10**9)}
_RULE = re.compile(r"^-{20,}\s*$")


def _ns(value: str, unit: str, where: str) -> float:
    try:  # in decimal: 8.1094 us is 8109.4 ns, not 8109.400000000001
        number = float(Decimal(value) * _NS[unit])
    except InvalidOperation:
        raise ParseError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ParseError(f"{where}: {value!r} is not a finite number")
    return number


def parse_console(text: str) -> list[Result]:
    lines = text.splitlines()
    results: list[Result] = []
    test_case, name_parts, in_table = "", list[str](), False
    i = 0
    while i < len(lines):
        line, where = lines[i], f"line {i + 1}"
        if _RULE.match(line) and i + 2 < len(lines) and _RULE.match(lines[i + 2]):
            test_case, in_table = lines[i + 1].strip(), False  # a test case's title between rules
            i += 3
            continue
        if CONSOLE_HEADER.match(line):
            in_table, name_parts = True, []
            i += 4  # the header's three lines and its rule
            continue
        if in_table and (first := _FIRST.match(line)) is not None:
            if i + 2 >= len(lines):
                raise ParseError(
                    f"{where}: benchmark {first.group('name')!r}: expected its mean and std dev lines"
                )
            mean, dev = _TRIPLE.match(lines[i + 1]), _TRIPLE.match(lines[i + 2])
            if mean is None or dev is None:
                raise ParseError(
                    f"line {i + 2}: expected 'mean low high' and 'std dev low high' with units (ns, us...)"
                )
            name = " ".join([*name_parts, first.group("name").strip()]).strip()
            values = [_ns(m.group(k), m.group(k + 1), f"line {i + 2 + n}") for n, m in enumerate((mean, dev))
                      for k in (1, 3, 5)]  # fmt: skip
            samples, per_sample = int(first.group("samples")), int(first.group("iterations"))
            context = {"mean_low": repr(values[1]), "mean_high": repr(values[2]),
                       "stddev_low": repr(values[4]), "stddev_high": repr(values[5]), "test_case": test_case,
                       "estimated_ns": repr(_ns(first.group(4), first.group(5), where))}  # fmt: skip
            results.append(make_result(where, benchmark=name, measure="time", unit="ns", value=values[0],
                                       mean=values[0], stddev=values[3], sample_count=samples,
                                       iterations=samples * per_sample, context=context))  # fmt: skip
            check_count(len(results))
            name_parts = []
            i += 3
            continue
        if in_table:
            if line.startswith("====") or _RULE.match(line):
                in_table = False
            elif line.strip():
                name_parts.append(line.strip())  # a long name, wrapped
            else:
                name_parts = []
        i += 1
    if not results:
        raise ParseError("no Catch2 benchmark found: expected its console table or its XML (-r xml)")
    return _labelled(results)


def _labelled(results: list[Result]) -> list[Result]:
    """A benchmark name in two test cases gets the test case as a label, as in the XML."""
    cases = Counter(name for name, _ in {(r.benchmark, r.context["test_case"]) for r in results})
    return [msgspec.structs.replace(r, labels={"test_case": r.context["test_case"]})
            if cases[r.benchmark] > 1 else r for r in results]  # fmt: skip
