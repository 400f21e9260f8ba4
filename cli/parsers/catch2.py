"""Catch2's XML reporter, ``-r xml`` (``framework: catch2``).

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
import xml.etree.ElementTree as ET
from collections import Counter

from central.schemas import ResultIn
from cli.errors import ParseError
from cli.parsers.common import check_count, make_result


def _number(element: ET.Element, attribute: str, where: str) -> float:
    text = element.get(attribute)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ParseError(f"{where}: {attribute}={text!r} is not a finite number")
    return value


def _result(bench: ET.Element, case: ET.Element, labels: dict[str, str], where: str) -> ResultIn:
    name = bench.get("name") or ""
    context = {"test_case": case.get("name", ""), "tags": case.get("tags", "")}
    failed = bench.find("failed")
    if failed is not None:
        message = (failed.get("message") or failed.text or "the benchmark failed").strip()
        return make_result(where, benchmark=name, measure="time", unit="ns", error=message, labels=labels,
                           context=context)  # fmt: skip
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
        iterations=samples * per_sample, labels=labels, context=context,
    )  # fmt: skip


def parse(text: str) -> list[ResultIn]:
    """Every benchmark of the report; ParseError names what is not as Catch2 writes it."""
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
    cases_of = Counter(bench.get("name") for _, bench in {(c.get("name"), b.get("name")): (c, b)
                                                          for c, b in found}.values())  # fmt: skip
    results = []
    for i, (case, bench) in enumerate(found):
        labels = {"test_case": case.get("name", "")} if cases_of[bench.get("name")] > 1 else {}
        results.append(_result(bench, case, labels, f"BenchmarkResults[{i}]"))
    return results
