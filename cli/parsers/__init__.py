"""Parsers: pure functions from a tool's output to results; the runner does the I/O.

``FRAMEWORKS`` maps each ``framework:`` key of bhub.yaml to its parser. ``parse_documents``
reads the command's stdout or the files a target names; ``detect`` tells the framework of
an output when exactly one format fits (``framework: auto``).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import cache

from cli.errors import ParseError
from cli.parsers.common import Document, check_count
from cli.wire import Result

__all__ = ["FRAMEWORKS", "Document", "Framework", "detect", "frameworks", "parse_documents", "parse_output"]


@dataclass(frozen=True)
class Framework:
    key: str
    parse: Callable[[str], list[Result]]
    looks_like: re.Pattern[str]
    parse_many: Callable[[Sequence[Document]], list[Result]] | None = None
    companions: tuple[str, ...] = ()  # files beside a named output that belong to it


def _json_with(*keys: str) -> re.Pattern[str]:
    """A JSON object holding all these keys in its first bytes; anchored, so a miss costs one scan."""
    return re.compile(r"\A(?=\s*\{)" + "".join(f'(?=[\\s\\S]*?"{k}")' for k in keys))


@cache
def frameworks() -> dict[str, Framework]:
    """Every parser by its framework key, their modules imported now: ``bhubctl run`` of one
    framework (or of ``command``, which none parses) does not import the 17 others (issue 16)."""
    from cli.parsers import (
        asv,
        benchhub_json,
        benchmark_ips,
        benchmarkdotnet,
        benchmarkjs,
        catch2,
        criterion,
        go,
        go_json,
        google_benchmark,
        hyperfine,
        jmh,
        mitata,
        pyperf,
        pytest_benchmark,
        rust_libtest,
        vitest,
    )  # fmt: skip

    return {
        f.key: f
        for f in (
            Framework("go", go.parse, re.compile(r"(?m)^Benchmark\S*[ \t]+\d+[ \t]+\S+ \S+/op")),
            Framework("go-json", go_json.parse, re.compile(r'^\s*\{"Time":"[^"]*","Action":')),
            Framework("pytest-benchmark", pytest_benchmark.parse, _json_with("machine_info", "benchmarks")),
            Framework(
                "google-benchmark", google_benchmark.parse,
                re.compile(_json_with("context", "time_unit").pattern + "|" + google_benchmark.TEXT_LOOKS_LIKE),  # noqa: E501
            ),
            Framework("hyperfine", hyperfine.parse, _json_with("results", "command", "times")),
            Framework(
                "criterion", criterion.parse, re.compile(r'^\s*\{"mean":\{"confidence_interval"'),
                parse_many=criterion.parse_documents, companions=criterion.COMPANIONS,
            ),
            # criterion's bencher text is libtest's format: auto reads it as rust-libtest
            Framework("rust-libtest", rust_libtest.parse, re.compile(r"(?m)^test .+ \.\.\. bench:")),
            Framework("pyperf", pyperf.parse, _json_with("benchmarks", "runs", "version", "metadata")),
            Framework("mitata", mitata.parse, mitata.LOOKS_LIKE),
            Framework("asv", asv.parse, asv.LOOKS_LIKE, parse_many=asv.parse_documents),
            Framework("jmh", jmh.parse, jmh.LOOKS_LIKE),
            Framework("benchmarkdotnet", benchmarkdotnet.parse, benchmarkdotnet.LOOKS_LIKE),
            Framework("vitest", vitest.parse, vitest.LOOKS_LIKE),
            Framework("catch2", catch2.parse, catch2.LOOKS_LIKE),
            Framework("benchmark-ips", benchmark_ips.parse, benchmark_ips.LOOKS_LIKE),
            Framework("benchmarkjs", benchmarkjs.parse, benchmarkjs.LOOKS_LIKE),
            Framework("json", benchhub_json.parse, re.compile(r'^\s*\{\s*"benchhub"\s*:')),
        )
    }  # fmt: skip


def __getattr__(name: str) -> dict[str, Framework]:
    if name == "FRAMEWORKS":  # cli.parsers.FRAMEWORKS, built on first use
        return frameworks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_SNIFF_BYTES = 65536


def detect(text: str) -> str:
    """The one framework whose format the text has; ParseError when none or several fit."""
    head = text[:_SNIFF_BYTES]
    fits = [key for key, f in frameworks().items() if f.looks_like.search(head)]
    if len(fits) == 1:
        return fits[0]
    known = ", ".join(frameworks())
    if not fits:
        raise ParseError(
            f"cannot tell which tool wrote this output; name it (framework: or --framework): {known}"
        )
    raise ParseError(
        f"the output fits several formats ({', '.join(fits)}); name one (framework: or --framework)"
    )


@contextmanager
def _no_collection() -> Iterator[None]:
    """Parsing makes no reference cycles: the cyclic collector only costs time during it
    (7% of a 1M-line go output, where every line makes short-lived lists)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_documents(framework: str, docs: Sequence[Document]) -> list[Result]:
    """Results of all documents; a ParseError names the document that failed."""
    with _no_collection():
        return _parse_documents(framework, docs)


def parse_output(framework: str, chunks: Callable[[], Generator[str]]) -> list[Result]:
    """Results of a command's output, given as ``chunks()``: pieces ending at a line's end.

    Go's text is read piece by piece (the outputs that grow to hundreds of megabytes: a suite
    run with -count); every other format is one document, read whole.
    """
    if framework == "auto":
        with closing(chunks()) as pieces:
            head = next(pieces, "")
        framework = detect(head) if head else framework
    if framework == "go":
        from cli.parsers import go

        with _no_collection():
            try:
                return go.parse_chunks(chunks(), lambda: "".join(chunks()))
            except ParseError as exc:
                raise ParseError(f"<output>: {exc}") from None
    return parse_documents(framework, [Document("<output>", "".join(chunks()))])


def _parse_documents(framework: str, docs: Sequence[Document]) -> list[Result]:
    if framework == "auto":
        if not docs:
            raise ParseError("no output to parse")
        framework = detect(docs[0].text)
    known = frameworks()
    if framework not in known:
        raise ParseError(f"no parser {framework!r}; choose one of: {', '.join(known)}, auto")
    spec = known[framework]
    if spec.parse_many is not None:
        return spec.parse_many(docs)
    results: list[Result] = []
    for doc in docs:
        try:
            results.extend(spec.parse(doc.text))
            check_count(len(results))  # files that each hold fewer, together too many
        except ParseError as exc:
            raise ParseError(f"{doc.name}: {exc}") from None
    return results
