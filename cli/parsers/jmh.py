"""JMH's JSON result file (``framework: jmh``): ``java -jar benchmarks.jar -rf json -rff out.json``.

Written from JMH's documented result format (``org.openjdk.jmh.results.format.JSONResultFormat``:
an array of runs with ``benchmark``, ``mode``, ``params``, ``primaryMetric`` and
``secondaryMetrics``, each metric a ``score``, ``scoreError``, ``scoreConfidence``,
``scorePercentiles``, ``scoreUnit`` and ``rawData`` per fork and iteration, or
``rawDataHistogram`` in sample mode); JMH cannot run here.

Per run: the primary metric as ``throughput`` (mode ``thrpt``, its unit such as ``ops/s``:
higher is better) or ``time`` (``avgt``, ``sample``, ``ss``: ``us/op`` and the like), value =
the 50th percentile (BenchHub's headline is the median; JMH's score, their mean, is ``mean``),
samples = the iteration scores of every fork; the score
error (99.9% half-width), confidence bounds, mode, threads, forks and JDK in context; the JMH
``params`` as labels. Every secondary metric (``·gc.alloc.rate``...) is a result of its own,
named after the metric without JMH's ``·``.
"""

from __future__ import annotations

import re

from cli.errors import ParseError
from cli.parsers.common import arr, check_count, flat, load_json, make_result, num, nums, obj, string
from cli.wire import Result

LOOKS_LIKE = re.compile(r'\A\s*\[\s*\{(?=[\s\S]*?"primaryMetric")(?=[\s\S]*?"benchmark")(?=[\s\S]*?"mode")')
_MEASURE = {"thrpt": "throughput", "avgt": "time", "sample": "time", "ss": "time"}
_SHARED = ("threads", "forks", "jdkVersion", "jmhVersion")


def _metric(metric: dict[str, object], where: str) -> dict[str, object]:
    score = num(metric.get("score"), f"{where}.score")
    fields: dict[str, object] = {
        "value": score,
        "unit": string(metric.get("scoreUnit"), f"{where}.scoreUnit"),
    }
    context: dict[str, str] = {}
    if metric.get("scoreError") is not None:
        error = metric["scoreError"]
        if isinstance(error, int | float) and error == error:  # JMH writes NaN with one iteration
            context["score_error"] = flat(error)
    bounds = metric.get("scoreConfidence")
    if isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int | float) for b in bounds):
        context["confidence_low"], context["confidence_high"] = flat(bounds[0]), flat(bounds[1])
    percentiles = obj(metric.get("scorePercentiles") or {}, f"{where}.scorePercentiles")
    fields["mean"] = score  # JMH's score is the mean of its iterations; the headline is their median
    if "50.0" in percentiles:
        fields["median"] = fields["value"] = num(percentiles["50.0"], f"{where}.scorePercentiles.50.0")
    for key in ("0.0", "100.0"):
        if key in percentiles:
            fields["min" if key == "0.0" else "max"] = num(
                percentiles[key], f"{where}.scorePercentiles.{key}"
            )
    if metric.get("rawData") is not None:
        forks = arr(metric["rawData"], f"{where}.rawData")
        samples = [s for i, fork in enumerate(forks) for s in nums(fork, f"{where}.rawData[{i}]")]
        if samples:
            fields["samples"], fields["sample_count"] = samples, len(samples)
    fields["context"] = context
    return fields


def parse(text: str) -> list[Result]:
    runs = arr(load_json(text), "document")
    if not runs:
        raise ParseError("document: no benchmark run in the file")
    results = []
    for i, raw in enumerate(runs):
        where = f"[{i}]"
        run = obj(raw, where)
        name = string(run.get("benchmark"), f"{where}.benchmark")
        mode = string(run.get("mode"), f"{where}.mode")
        labels = {str(k): flat(v) for k, v in obj(run.get("params") or {}, f"{where}.params").items()}
        shared = {"mode": mode, **{key: flat(run[key]) for key in _SHARED if run.get(key) is not None}}
        primary = _metric(obj(run.get("primaryMetric"), f"{where}.primaryMetric"), f"{where}.primaryMetric")
        primary["context"] = {**shared, **primary["context"]}  # type: ignore[dict-item]
        results.append(make_result(where, benchmark=name, measure=_MEASURE.get(mode, mode), labels=labels,
                                   **primary))  # fmt: skip
        for key, metric in obj(run.get("secondaryMetrics") or {}, f"{where}.secondaryMetrics").items():
            fields = _metric(
                obj(metric, f"{where}.secondaryMetrics.{key}"), f"{where}.secondaryMetrics.{key}"
            )
            fields["context"] = {**shared, **fields["context"]}  # type: ignore[dict-item]
            results.append(
                make_result(where, benchmark=name, measure=key.lstrip("·"), labels=labels, **fields)
            )
        check_count(len(results))
    return results
