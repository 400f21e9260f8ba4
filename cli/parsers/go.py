"""Go ``testing`` benchmark text output (``go test -bench``).

Each result line is ``BenchmarkName[-PROCS] <iterations> <value> <unit> [<value> <unit>]...``.
The -PROCS suffix becomes a ``procs`` label; ``-count`` repeats of a name become samples
(the headline value is their median); ``goos/goarch/pkg/cpu`` headers become context;
``--- FAIL: BenchmarkX`` becomes a failed result carrying the first log line after it; other
lines (logs, PASS, ok, panics) are skipped, so the results before a crash are kept. Units
stay as Go prints them (ns/op, B/op, allocs/op, MB/s, custom).

Big outputs are read a megabyte at a time. In a plain chunk one regex pass picks the result
lines and one split makes their tokens; lines of equal width and units form a grid whose
columns are converted whole, and numpy groups the values per benchmark at the end. Anything
unusual (a FAIL line or non-ASCII text in the chunk, units changing from line to line) is read
line by line, which gives the same results (a test compares the two).
"""

from __future__ import annotations

import math
import re
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from central.wire import MAX_RESULTS_PER_RUN
from cli.errors import ParseError
from cli.parsers.common import check_count, make_result, make_results
from cli.parsers.stats import summarize
from cli.wire import Result

# Used only to locate a bad result line for the error message (the fast paths split lines).
_RESULT_LINE = re.compile(r"^(Benchmark\S*)[ \t]+(\d+)[ \t]+([^\n]*)", re.MULTILINE)
# The grid's lines, read after a newline put before the chunk: a pattern starting with a literal
# is searched for fast, where '^' in MULTILINE mode is tried at every position.
_BENCHMARK_LINES = re.compile(rb"\nBenchmark[^\n]*")
_HEADER_LINES = re.compile(r"\n(goos|goarch|pkg|cpu):([^\n]*)")
_HEADERS = ("goos:", "goarch:", "pkg:", "cpu:")
_PROCS = re.compile(r"^(.*?)-(\d+)$")
_MEASURES = {"ns/op": "time", "B/op": "alloc_bytes", "allocs/op": "allocs", "MB/s": "throughput"}
_CHUNK = 1 << 20  # text is read a megabyte at a time: memory stays near the input's size
_END = b"\0"  # joins the grid's lines, so each line's width can be checked
# bytes.split() splits on ASCII whitespace only, str.split() also on \x1c-\x1f: such chunks, and
# those holding _END itself, are read line by line.
_NOT_PLAIN = ("\x1c", "\x1d", "\x1e", "\x1f", "\0", "--- FAIL: Benchmark")
_MAX_GRID_COUNT = 1 << 31  # iteration counts the grid sums in int64; larger ones are summed exactly
# Outputs this small are read line by line and summarized in plain Python: importing numpy
# (~40 ms) would be most of a small suite's parse, and of what `bhubctl run` adds (issue 16).
_GRID_MIN_LINES = 256
_NUMPY_MIN_VALUES = 20_000
if TYPE_CHECKING:  # numpy itself is imported where the grid needs it: bhubctl starts without it
    import numpy as np
    import numpy.typing as npt

    _Ints = npt.NDArray[np.int64]


class _Malformed(Exception):
    """A result line the scanners cannot read; ``_first_error`` finds and names it."""


def _split_name(name: str) -> tuple[str, str]:
    m = _PROCS.match(name)
    return (m.group(1), m.group(2)) if m else (name, "")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _log_of(line: str) -> str:
    """A log line (indented) as the failure's message; ``go test -json`` prints it before FAIL."""
    return line.strip() if line[:1] in (" ", "\t") and line.strip() else "the benchmark failed"


def _number(text: str, pos: int, bench: str, value_text: str, unit: str) -> float:
    try:
        value = float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ParseError(
            f"benchmark {bench!r}: {value_text!r} is not a number (before unit {unit!r})", _line_of(text, pos)
        )
    return value


def _first_error(text: str) -> ParseError:
    """The slow path, taken only when a scanner met a bad line: find it and say where."""
    for m in _RESULT_LINE.finditer(text):
        bench, fields = m.group(1), m.group(3).split()
        if len(fields) % 2:
            return ParseError(
                f"benchmark {bench!r}: expected '<value> <unit>' pairs after the "
                f"iteration count, got {m.group(3)!r}",
                _line_of(text, m.start()),
            )
        for value_text, unit in zip(fields[::2], fields[1::2], strict=True):
            _number(text, m.start(), bench, value_text, unit)
    return ParseError("a benchmark line holds a value that is not a finite number")


_PKG_LINE = re.compile(r"(?m)^(?=pkg:)")


def _by_package(chunk: str) -> list[str]:
    """The chunk cut before each 'pkg:' line, so each piece holds one package's lines."""
    return [piece for piece in _PKG_LINE.split(chunk) if piece] if "pkg:" in chunk else [chunk]


def _chunks(text: str) -> Iterator[str]:
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + _CHUNK)
        end = len(text) if end < 0 else end + 1
        yield text[pos:end]
        pos = end


def _converted(texts: list[bytes], typecode: str, convert: Callable[[bytes], Any]) -> array[Any]:
    """A grid column as numbers. A column of few distinct texts (B/op, allocs/op, the
    iteration counts of repeated runs) converts each distinct text once."""
    head = texts[:64]
    if len(set(head)) * 4 > len(head):
        return array(typecode, map(convert, texts))
    table = {text: convert(text) for text in set(texts)}
    return array(typecode, map(table.__getitem__, texts))


class _Values:
    """Every value of every result line, in order, tagged with its column.

    A series is one benchmark name (with its -PROCS suffix) printed with one list of units;
    its columns (one per unit) get consecutive ids in order of first appearance, the series
    is known by its first column's id. ``ids`` and ``values`` are flat arrays that grow in
    place (a grid's columns, or the lines read one by one): no parts to join at the end.
    """

    def __init__(self) -> None:
        self.pkg = ""  # the package of the lines read now (go test ./... prints one 'pkg:' each)
        self.series: dict[tuple[str, str, tuple[str, ...]], int] = {}
        self.columns: list[tuple[str, str, int]] = []  # column id -> (bench, unit, series id)
        self.packages: list[str] = []  # column id -> package
        self._by_units: dict[tuple[str, tuple[bytes, ...]], dict[bytes, int]] = {}  # the grid's lookup
        self.ids = array("i")
        self.values = array("d")
        self._grid_iterations: _Ints | None = None  # per series, made by the first grid
        self._exact_iterations: dict[int, int] = {}  # per series, of the lines read one by one

    def series_id(self, bench: str, units: tuple[str, ...]) -> int:
        key = (self.pkg, bench, units)
        found = self.series.get(key)
        if found is None:
            if len(self.series) >= MAX_RESULTS_PER_RUN:  # each one is a result at least: stop now
                check_count(len(self.series) + 1)
            found = self.series[key] = len(self.columns)
            self.columns.extend((bench, unit, found) for unit in units)
            self.packages.extend(self.pkg for _ in units)
        return found

    def add_line(self, parts: list[str]) -> None:
        """One result line split into name, count, value, unit, value, unit..."""
        if len(parts) % 2:
            raise _Malformed
        base = self.series_id(parts[0], tuple(parts[3::2]))
        try:
            self.values.extend(map(float, parts[2::2]))
        except ValueError:
            raise _Malformed from None
        self.ids.extend(range(base, base + len(parts) // 2 - 1))
        self._exact_iterations[base] = self._exact_iterations.get(base, 0) + int(parts[1])

    def add_grid(self, tokens: list[bytes], width: int) -> bool:
        """Lines of ``width`` tokens each (the last is _END); False if they are not one shape."""
        n = len(tokens) // width
        if n < _GRID_MIN_LINES:
            return False  # read line by line
        import numpy as np

        if not b"".join(tokens[1::width]).isdigit():  # bytes: ASCII digits only
            return False  # a line of other words among them
        if width % 2 == 0:
            raise _Malformed  # name, count and '<value> <unit>' pairs: an odd count, then _END
        unit_columns = [tokens[i::width] for i in range(3, width - 1, 2)]
        if any(column.count(column[0]) != n for column in unit_columns):
            return False
        try:
            counts = np.frombuffer(_converted(tokens[1::width], "q", int), dtype=np.int64)
        except OverflowError:
            return False
        if counts.max() >= _MAX_GRID_COUNT:
            return False
        try:
            values = [_converted(tokens[i::width], "d", float) for i in range(2, width - 1, 2)]
        except ValueError:
            raise _Malformed from None
        units = tuple(column[0] for column in unit_columns)
        lookup = self._by_units.setdefault((self.pkg, units), {})
        names = tokens[0::width]
        try:
            series = np.fromiter(map(lookup.__getitem__, names), dtype=np.int32, count=n)
        except KeyError:  # names not seen before with these units
            for name in dict.fromkeys(names):
                if name not in lookup:
                    lookup[name] = self.series_id(name.decode(), tuple(u.decode() for u in units))
            series = np.fromiter(map(lookup.__getitem__, names), dtype=np.int32, count=n)
        for offset, column in enumerate(values):
            self.ids.frombytes((series + offset).tobytes())
            self.values.extend(column)
        if self._grid_iterations is None:
            self._grid_iterations = np.zeros(max(1024, len(self.columns)), dtype=np.int64)
        if len(self._grid_iterations) < len(self.columns):
            grown = np.zeros(2 * len(self.columns), dtype=np.int64)
            grown[: len(self._grid_iterations)] = self._grid_iterations
            self._grid_iterations = grown
        np.add.at(self._grid_iterations, series, counts)
        return True

    def iterations(self) -> list[int]:
        """Per series id (first column id), the sum of its lines' iteration counts."""
        grid = self._grid_iterations
        totals: list[int] = [] if grid is None else grid[: len(self.columns)].tolist()
        totals += [0] * (len(self.columns) - len(totals))
        for series, count in self._exact_iterations.items():
            totals[series] += count
        return totals


class _Scanner:
    """Reads the text chunk by chunk into ``values``, ``failures`` and ``context``."""

    def __init__(self, grid: bool = True) -> None:
        self.values = _Values()
        self.failures: dict[tuple[str, str], str] = {}
        self.context: dict[str, str] = {}
        self._grid = grid
        self._failed: str | None = None  # a '--- FAIL' line waiting for its log line
        self._previous = ""

    def scan(self, chunks: Iterable[str]) -> None:
        """Read every chunk; each must end at a line's end (but the last)."""
        for whole in chunks:
            for chunk in _by_package(whole):
                if chunk.startswith("pkg:"):
                    self.values.pkg = chunk.partition("\n")[0][4:].strip()
                if self._grid and self._failed is None and self._plain(chunk):
                    self._scan_grid(chunk)
                else:
                    self._scan_lines(chunk)
        if self._failed is not None:
            self.failures.setdefault(_split_name(self._failed), _log_of(self._previous))

    @staticmethod
    def _plain(chunk: str) -> bool:
        return chunk.isascii() and not any(needle in chunk for needle in _NOT_PLAIN)

    def _scan_grid(self, chunk: str) -> None:
        chunk = "\n" + chunk
        for key, value in _HEADER_LINES.findall(chunk):
            self.context[key] = value.strip()
        # as the line-by-line reader leaves it: the chunk's last line (go test -json prints a
        # failed benchmark's log line before its '--- FAIL' line, maybe in the next chunk)
        self._previous = chunk[chunk.rfind("\n", 0, len(chunk) - 1) + 1 :].rstrip("\n")
        lines = _BENCHMARK_LINES.findall(chunk.encode())
        if not lines:
            return
        tokens = b" \0 ".join(lines).split()
        tokens.append(_END)
        width = tokens.index(_END) + 1
        n = len(lines)  # the chunk holds no _END of its own: one per line, so the check is exact
        if len(tokens) == width * n and tokens[width - 1 :: width].count(_END) == n:
            runs = [(0, len(tokens), width)]
        else:
            runs = self._runs(tokens)
        for start, end, run_width in runs:
            if run_width <= 3:
                continue  # a name alone or with one word: not a result
            part = tokens[start:end]
            if not self.values.add_grid(part, run_width):
                for row in range(0, len(part), run_width):
                    parts = [t.decode() for t in part[row : row + run_width - 1]]
                    if parts[1].isdigit():
                        self.values.add_line(parts)

    @staticmethod
    def _runs(tokens: list[bytes]) -> list[tuple[int, int, int]]:
        """(start, end, width) of each stretch of lines with one width."""
        runs: list[tuple[int, int, int]] = []
        find = tokens.index
        start = 0
        while start < len(tokens):
            end = find(_END, start) + 1
            width = end - start
            if runs and runs[-1][2] == width and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], end, width)
            else:
                runs.append((start, end, width))
            start = end
        return runs

    def _scan_lines(self, chunk: str) -> None:
        values, failures = self.values, self.failures
        lines = chunk.split("\n")
        if chunk.endswith("\n"):  # not a line of its own: the next chunk starts the next line
            lines.pop()
        for line in lines:
            if self._failed is not None:
                log = line.strip() if line[:1] in (" ", "\t") else ""
                failures.setdefault(_split_name(self._failed), log or _log_of(self._previous))
                self._failed = None
            if line.startswith("Benchmark"):
                parts = line.split()
                count = parts[1] if len(parts) > 2 else ""
                if count.isdigit() and count.isascii():
                    values.add_line(parts)
            elif line.startswith("--- FAIL: Benchmark"):
                self._failed = line.split()[2]
                continue  # keep 'previous': go -json prints the log line before this one
            elif line.startswith(_HEADERS):
                key, _, value = line.partition(":")
                self.context[key] = value.strip()
            self._previous = line


def parse(text: str) -> list[Result]:
    """Results of every benchmark line; ParseError if a result line is malformed or none exist."""
    return _parse(text, grid=True)


def parse_chunks(chunks: Iterable[str], text_of: Callable[[], str]) -> list[Result]:
    """``parse`` of text that arrives in pieces, each ending at a line's end (an output read back
    a megabyte at a time): memory stays near the results' size whatever the output's.
    ``text_of`` gives the whole text, read only to name the line of an error."""
    return _parse_chunks(chunks, text_of, grid=True)


def _parse(text: str, grid: bool) -> list[Result]:
    return _parse_chunks(_chunks(text), lambda: text, grid)


def _parse_chunks(chunks: Iterable[str], text_of: Callable[[], str], grid: bool) -> list[Result]:
    scanner = _Scanner(grid)
    try:
        scanner.scan(chunks)
    except _Malformed:
        raise _first_error(text_of()) from None
    values, failures, context = scanner.values, scanner.failures, scanner.context
    if not values.columns and not failures:
        raise ParseError(
            "no Go benchmark result found: expected lines like "
            "'BenchmarkName-8  1000000  1052 ns/op' (did the command run with -bench?)"
        )
    results = _measured(values, context, text_of) if values.columns else []
    for (name, procs), error in failures.items():
        results.append(
            make_result(
                name, benchmark=name, measure="time", unit="ns/op", error=error,
                labels={"procs": procs} if procs else {}, context=dict(context),
            )
        )  # fmt: skip
    return results


_Key = tuple[str, str, str, str, str]  # name, measure, unit, procs, package


def _measured(values: _Values, context: dict[str, str], text_of: Callable[[], str]) -> list[Result]:
    """One result per benchmark name, measure, unit, procs (and package, when a name is in several),
    in order of first appearance.

    The samples are all taken out of the arrays before any result is made, so the arrays are
    gone by then: peak memory stays near the input's size plus the results'.
    """
    # Taken off the queue batch by batch: validation copies each samples list, ours go at once.
    pending = deque(_samples(values, text_of))
    # One name in two packages (go test ./...): the package is part of each one's identity.
    packages_of: dict[str, set[str]] = {}
    for item in pending:
        packages_of.setdefault(item[0][0], set()).add(item[0][4])
    contexts = {
        pkg: {**context, "pkg": pkg} if pkg else context for _, ps in packages_of.items() for pkg in ps
    }
    results: list[Result] = []
    while pending:
        names, fields = [], []
        for _ in range(min(_BATCH, len(pending))):
            key, iterations, samples, mean, median, stddev, low, high = pending.popleft()
            name, measure, unit, procs, pkg = key
            n = len(samples)
            names.append(name)
            labels = {"procs": procs} if procs else {}
            if len(packages_of[name]) > 1:
                labels["pkg"] = pkg
            fields.append(
                dict(
                    benchmark=name, measure=measure, unit=unit, value=median, iterations=iterations,
                    labels=labels, context=contexts[pkg], sample_count=n,
                    samples=samples if n > 1 else None, mean=mean, median=median, stddev=stddev,
                    min=low, max=high,
                )
            )  # fmt: skip
        results.extend(make_results(names, fields))
    return results


_Measured = tuple[_Key, int, list[float], float, float, "float | None", float, float]
_BATCH = 2000  # results validated at once: fast, and few field dicts alive at a time


def _keys(values: _Values) -> dict[_Key, list[int]]:
    """The columns of each result key, in order of first appearance."""
    keys: dict[_Key, list[int]] = {}
    names: dict[str, tuple[str, str]] = {}
    for column, (bench, unit, _) in enumerate(values.columns):
        name, procs = names.get(bench) or names.setdefault(bench, _split_name(bench))
        key = (name, _MEASURES.get(unit, unit), unit, procs, values.packages[column])
        keys.setdefault(key, []).append(column)
    check_count(len(keys))
    return keys


def _samples(values: _Values, text_of: Callable[[], str]) -> list[_Measured]:
    """Per result key: iterations, samples in line order, mean, median, stddev, min, max."""
    if len(values.values) < _NUMPY_MIN_VALUES:
        return _few_samples(values, text_of)
    import numpy as np

    ids = np.frombuffer(values.ids, dtype=np.int32)
    order = np.argsort(ids, kind="stable")  # each column's values together, in line order
    ids = ids[order]
    values.ids = array("i")  # each array is dropped once sorted
    flat = np.frombuffer(values.values, dtype=np.float64)[order]
    values.values = array("d")
    del order
    if not np.isfinite(flat).all():
        raise _first_error(text_of())
    bounds = np.searchsorted(ids, np.arange(len(values.columns) + 1))
    del ids
    starts, counts = bounds[:-1], np.diff(bounds)
    means = np.add.reduceat(flat, starts) / counts
    deviations = np.repeat(means, counts)
    np.subtract(flat, deviations, out=deviations)
    np.multiply(deviations, deviations, out=deviations)
    squares = np.add.reduceat(deviations, starts)
    del deviations
    lows, highs = np.minimum.reduceat(flat, starts), np.maximum.reduceat(flat, starts)

    keys = _keys(values)
    # Plain lists: indexing numpy arrays one element at a time is slow.
    edges, sizes, iterations_of = bounds.tolist(), counts.tolist(), values.iterations()
    mean_of, square_of, low_of, high_of = means.tolist(), squares.tolist(), lows.tolist(), highs.tolist()
    out = []
    for key, key_columns in keys.items():
        iterations = sum(iterations_of[values.columns[column][2]] for column in key_columns)
        if len(key_columns) == 1:
            c = key_columns[0]
            n, low, high = sizes[c], low_of[c], high_of[c]
            if low == high and low != 0.0:  # one float object for all (0.0 and -0.0 compare equal)
                samples, median = [low] * n, low
            else:
                samples = flat[edges[c] : edges[c + 1]].tolist()
                ordered = sorted(samples)
                median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
            stddev = math.sqrt(square_of[c] / (n - 1)) if n > 1 else None
            out.append((key, iterations, samples, mean_of[c], median, stddev, low, high))
        else:  # one name printed with two unit lists (rare): plain statistics over both
            samples = [v for c in key_columns for v in flat[edges[c] : edges[c + 1]].tolist()]
            out.append(_summarized(key, iterations, samples))
    return out


def _few_samples(values: _Values, text_of: Callable[[], str]) -> list[_Measured]:
    """``_samples`` of a small output, in plain Python (the same statistics, by summarize)."""
    if not all(map(math.isfinite, values.values)):
        raise _first_error(text_of())
    per_column: list[list[float]] = [[] for _ in values.columns]
    for column, value in zip(values.ids, values.values, strict=True):
        per_column[column].append(value)
    iterations_of = values.iterations()
    out = []
    for key, key_columns in _keys(values).items():
        iterations = sum(iterations_of[values.columns[column][2]] for column in key_columns)
        out.append(_summarized(key, iterations, [v for c in key_columns for v in per_column[c]]))
    return out


def _summarized(key: _Key, iterations: int, samples: list[float]) -> _Measured:
    s = summarize(samples)
    return (key, iterations, samples, s.mean, s.median, s.stddev, s.min, s.max)
