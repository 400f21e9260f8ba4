"""Criterion.rs results (``framework: criterion``).

Two inputs: the ``target/criterion/<id>/new/estimates.json`` files (with ``benchmark.json``
for the name and throughput, ``sample.json`` for the samples, when they are beside it), or
``cargo bench`` text in libtest's bencher format (``test name ... bench: 1,234 ns/iter (+/- 5)``,
also what ``-- --output-format bencher`` prints). Times are in ns; the headline value is the
median estimate; mean, std_dev, slope and confidence bounds come from the estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from cli.errors import ParseError
from cli.parsers import rust_libtest
from cli.parsers.common import Document, flat, load_json, make_result, num, nums, obj, opt_num, string
from cli.wire import Result

COMPANIONS = ("benchmark.json", "sample.json")


def _estimate(estimates: dict[str, object], key: str, where: str) -> float | None:
    if estimates.get(key) is None:
        return None
    return num(obj(estimates[key], f"{where}.{key}").get("point_estimate"), f"{where}.{key}.point_estimate")


def _name_from_path(where: str) -> str:
    """``.../criterion/<group>/<id>/new/estimates.json`` -> ``<group>/<id>`` (without benchmark.json)."""
    parts = PurePath(where).parts
    if "criterion" in parts and len(parts) >= 3 and parts[-2] == "new":
        start = len(parts) - parts[::-1].index("criterion")
        return "/".join(parts[start:-2])
    return where


def _throughput(info: dict[str, object], median_ns: float, where: str) -> tuple[str, float] | None:
    throughput = info.get("throughput")
    if not isinstance(throughput, dict) or len(throughput) != 1 or median_ns <= 0:
        return None
    kind, amount = next(iter(throughput.items()))
    per_second = num(amount, f"{where}.throughput.{kind}") / (median_ns * 1e-9)
    return ("B/s" if kind in ("Bytes", "BytesDecimal") else "elem/s"), per_second


def _from_estimates(estimates_doc: Document, siblings: dict[str, Document]) -> list[Result]:
    where = estimates_doc.name
    estimates = obj(load_json(estimates_doc.text), where)
    median = _estimate(estimates, "median", where)
    if median is None:
        raise ParseError(f"{where}: median: expected criterion's estimates (mean, median, std_dev, ...)")
    info: dict[str, object] = {}
    if "benchmark.json" in siblings:
        info = obj(load_json(siblings["benchmark.json"].text), siblings["benchmark.json"].name)
    name = string(
        info.get("full_id") or info.get("title") or _name_from_path(where), f"{where}: benchmark name"
    )
    context = {
        f"{key}_ns": flat(value)
        for key in ("slope", "median_abs_dev")
        if (value := _estimate(estimates, key, where)) is not None
    }
    mean = obj(estimates.get("mean") or {}, f"{where}.mean")
    bounds = obj(mean.get("confidence_interval") or {}, f"{where}.mean.confidence_interval")
    for bound in ("lower_bound", "upper_bound"):
        if (value := opt_num(bounds.get(bound), f"{where}.mean.confidence_interval.{bound}")) is not None:
            context[f"mean_{bound}_ns"] = flat(value)
    samples: list[float] | None = None
    iterations = None
    if "sample.json" in siblings:
        sample = obj(load_json(siblings["sample.json"].text), siblings["sample.json"].name)
        iters = nums(sample.get("iters"), f"{siblings['sample.json'].name}.iters")
        times = nums(sample.get("times"), f"{siblings['sample.json'].name}.times")
        if len(iters) != len(times) or any(i <= 0 for i in iters):
            raise ParseError(f"{siblings['sample.json'].name}: iters and times must pair up, iters > 0")
        samples = [t / i for t, i in zip(times, iters, strict=True)] or None
        iterations = int(sum(iters))
    results = [
        make_result(
            where, benchmark=name, measure="time", unit="ns", value=median, median=median,
            mean=_estimate(estimates, "mean", where), stddev=_estimate(estimates, "std_dev", where),
            min=min(samples) if samples else None, max=max(samples) if samples else None,
            samples=samples, sample_count=len(samples) if samples else None, iterations=iterations,
            context=context,
        )
    ]  # fmt: skip
    if (throughput := _throughput(info, median, where)) is not None:
        results.append(make_result(where, benchmark=name, measure="throughput", unit=throughput[0],
                                   value=throughput[1], context=dict(context)))  # fmt: skip
    return results


def parse(text: str) -> list[Result]:
    """bencher text, or one estimates.json on its own (the name then cannot be known)."""
    if text.lstrip().startswith("{"):
        return _from_estimates(Document("estimates.json", text), {})
    results = rust_libtest.results(text, "deviation", "libtest")  # the bencher format is libtest's
    if not results:
        raise ParseError(
            "no criterion result found: expected 'test name ... bench: 1,234 ns/iter (+/- 5)' lines "
            "or target/criterion/**/new/estimates.json files"
        )
    return results


def parse_documents(docs: Sequence[Document]) -> list[Result]:
    """estimates.json files with their benchmark.json and sample.json; other documents as text."""
    siblings: dict[str, dict[str, Document]] = {}
    main: list[Document] = []
    for doc in docs:
        path = PurePath(doc.name)
        if path.name in COMPANIONS:
            siblings.setdefault(str(path.parent), {})[path.name] = doc
        else:
            main.append(doc)
    results: list[Result] = []
    for doc in main:
        if doc.text.lstrip().startswith("{"):
            results.extend(_from_estimates(doc, siblings.get(str(PurePath(doc.name).parent), {})))
        else:
            results.extend(parse(doc.text))
    if not results:
        raise ParseError(
            "no criterion estimates.json among the files: point output at target/criterion/**/new/"
        )
    return results
