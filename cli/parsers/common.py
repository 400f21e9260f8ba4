"""What every parser shares: documents, typed JSON reading and safe result building.

Parsers only raise ParseError: every JSON access goes through these readers, which name the
path of a bad value (``benchmarks[3].stats.median: expected a number``), and every result
is built by ``make_result``, which turns a rejected value into a ParseError too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, cast

import msgspec

from central.wire import MAX_RESULTS_PER_RUN, MAX_SAMPLES
from cli.errors import ParseError
from cli.parsers.stats import summarize
from cli.wire import Result, describe


@dataclass(frozen=True)
class Document:
    """One output to parse: the command's stdout (``name='<stdout>'``) or a file it wrote."""

    name: str
    text: str


def check_count(count: int) -> None:
    """Refuse, before any result is made, an output holding more results than a run may have."""
    if count > MAX_RESULTS_PER_RUN:
        raise ParseError(
            f"{count} results: a run holds at most {MAX_RESULTS_PER_RUN}; split the target into several"
        )


def load_json(text: str) -> object:
    """The parsed document; a ParseError with the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON: {exc.msg} at column {exc.colno} (truncated output?)", exc.lineno
        ) from None
    except (RecursionError, ValueError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def obj(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ParseError(f"{where}: expected an object, got {_shown(value)}")
    return value


def arr(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ParseError(f"{where}: expected a list, got {_shown(value)}")
    return value


def num(value: object, where: str) -> float:
    """A finite number (bools are not numbers)."""
    try:
        if not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    except OverflowError:  # an int beyond any float
        pass
    raise ParseError(f"{where}: expected a finite number, got {_shown(value)}")


def text_number(text: str, where: str) -> float:
    """A finite number printed by a tool, thousands separated by commas or not (``1,234.5``)."""
    try:
        return num(float(text.replace(",", "")), where)
    except ValueError:
        raise ParseError(f"{where}: {text!r} is not a number") from None


def opt_num(value: object, where: str) -> float | None:
    return None if value is None else num(value, where)


def stat_fields(row: dict[str, object], where: str, **keys: str) -> dict[str, float | None]:
    """A tool's optional statistics by its own field names: ``stat_fields(row, w, mean="Mean")``."""
    return {field: opt_num(row.get(key), f"{where}.{key}") for field, key in keys.items()}


def integer(value: object, where: str) -> int:
    number = num(value, where)
    if not number.is_integer() or number < 0:
        raise ParseError(f"{where}: expected a whole number >= 0, got {_shown(value)}")
    return int(number)


def string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ParseError(f"{where}: expected a non-empty string, got {_shown(value)}")
    return value


def nums(value: object, where: str) -> list[float]:
    """Finite numbers; the bad item's index named. Plain lists (the common case) are checked in
    C: the per-item path, which names the item, runs only when something is off."""
    items = arr(value, where)
    try:
        if set(map(type, items)) <= {float, int}:
            numbers = cast(list[float], items)
            if all(map(math.isfinite, numbers)):
                return list(map(float, numbers))
    except OverflowError:  # an int too big for a float
        pass
    return [num(item, f"{where}[{i}]") for i, item in enumerate(items)]


def flat(value: object) -> str:
    """A context value as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def prefixed(prefix: str, mapping: object, where: str) -> dict[str, str]:
    """An optional JSON object as context entries ``prefix.key``."""
    return {f"{prefix}.{k}": flat(v) for k, v in obj(mapping or {}, where).items()}


def _capped(fields: dict[str, Any]) -> dict[str, Any]:
    samples = fields.get("samples")
    if samples is not None and len(samples) > MAX_SAMPLES:
        fields["samples"] = None
        dropped = f"{len(samples)} samples, over {MAX_SAMPLES}"
        fields["context"] = {**fields.get("context", {}), "samples_dropped": dropped}  # may be shared
    return fields


def _refused(where: str, key: str, message: str) -> ParseError:
    return ParseError(f"{where}: {key or 'result'}: {message}")


def make_result(where: str, /, **fields: Any) -> Result:
    """A Result; a value the schema refuses becomes a ParseError naming ``where``."""
    try:
        return msgspec.convert(_capped(fields), Result)
    except msgspec.ValidationError as exc:
        raise _refused(where, *describe(exc)) from None


def make_results(wheres: list[str], fields: list[dict[str, Any]]) -> list[Result]:
    """``make_result`` for many results in one validation (big outputs make tens of thousands)."""
    try:
        return msgspec.convert([_capped(f) for f in fields], list[Result])
    except msgspec.ValidationError as exc:
        path, message = describe(exc)
        index, _, key = path.partition("]")  # '[12].benchmark': result 12, its benchmark
        raise _refused(wheres[int(index.lstrip("["))], key.lstrip("."), message) from None


def with_checked_samples(result: Result, samples: list[float]) -> Result:
    """``result`` with samples the parser has already proven finite floats, attached without
    validating them one by one (millions of them, in big outputs); over MAX_SAMPLES are dropped."""
    if len(samples) > MAX_SAMPLES:
        context = {**result.context, "samples_dropped": f"{len(samples)} samples, over {MAX_SAMPLES}"}
        return msgspec.structs.replace(result, context=context)
    return msgspec.structs.replace(result, samples=samples)


def stats_fields(samples: list[float]) -> dict[str, Any]:
    """mean/median/stddev/min/max/sample_count/samples of repeated measurements."""
    if not samples:
        raise ParseError("samples: expected at least one sample")
    try:
        s = summarize(samples)
    except (OverflowError, ValueError) as exc:
        raise ParseError(f"samples cannot be summarized: {exc}") from None
    return {
        "mean": s.mean, "median": s.median, "stddev": s.stddev, "min": s.min, "max": s.max,
        "sample_count": s.count, "samples": samples,
    }  # fmt: skip
