"""BenchHub's own JSON format (``framework: json``), for any tool without a parser.

    {"benchhub": 1, "results": [{"benchmark": "parse_big_file", "measure": "time", "unit": "s",
      "value": 1.25, "samples": [1.2, 1.25, 1.3], "labels": {"size": "big"}}]}

Each result takes the fields of the results API (benchmark, measure, unit, value or error,
iterations, mean, median, stddev, min, max, sample_count, samples, labels, context); when
samples are given and statistics are not, the statistics are computed from them.
"""

from __future__ import annotations

from cli.errors import ParseError
from cli.parsers.common import arr, check_count, load_json, make_result, nums, obj, stats_fields
from cli.wire import Result

FORMAT_VERSION = 1


def parse(text: str) -> list[Result]:
    """Every result of the document; ParseError names the first field that is wrong."""
    doc = obj(load_json(text), "document")
    if doc.get("benchhub") != FORMAT_VERSION:
        raise ParseError(
            f"benchhub: expected {FORMAT_VERSION} (the format version), got {doc.get('benchhub')!r}"
        )
    rows = arr(doc.get("results"), "results")
    if not rows:
        raise ParseError("results: expected at least one result")
    check_count(len(rows))
    results = []
    for i, raw in enumerate(rows):
        fields = dict(obj(raw, f"results[{i}]"))
        if fields.get("samples") is not None:
            computed = stats_fields(nums(fields["samples"], f"results[{i}].samples"))
            fields = computed | {k: v for k, v in fields.items() if v is not None}
            if fields.get("value") is None and fields.get("error") is None:
                fields["value"] = computed["median"]
        results.append(make_result(f"results[{i}]", **fields))
    return results
