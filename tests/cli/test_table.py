"""The plain-text results table of `bhubctl run`, `runs show` and `parse`, and coloured notes."""

from __future__ import annotations

import io

import pytest

from cli.table import paint, results_text
from cli.wire import Result

LONG = "BenchmarkEncode/format=json/size=1048576/with-a-name-longer-than-a-terminal-is-wide-16"


def results() -> list[Result]:
    return [
        Result(benchmark=LONG, measure="alloc_bytes", unit="B", value=5.89414e6, stddev=1e5, sample_count=10,
               labels={"procs": "16", "pkg": "example.com/some/rather/long/package/path"}),
        Result(benchmark="BenchmarkSmall", measure="throughput", unit="B/s", value=1.06e9),
        Result(benchmark="BenchmarkBroken", measure="time", unit="ns", error="panic: index out of range"),
    ]  # fmt: skip


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_the_table_fits_and_folds_without_cutting(columns: int) -> None:
    text = results_text(results(), title="encode @ 0123456789ab", columns=columns)
    lines = text.splitlines()
    assert all(len(line) <= columns for line in lines), text
    assert lines[0] == "encode @ 0123456789ab" and lines[1].split() == ["benchmark", "measure", "value", "±", "n",
                                                                          "labels"]  # fmt: skip
    # every character of a long name is there, folded onto the lines below its row
    first = [line[: lines[1].index("measure")].strip() for line in lines[3:]]
    assert LONG in "".join(first[: first.index("BenchmarkSmall")])
    for whole in (
        "alloc_bytes",
        "throughput",
        "5.62 MiB",
        "±1.7%",
        "1.06 GB/s",
        "  panic: index out of range",
    ):
        assert whole in text, (whole, text)


def test_a_wide_terminal_keeps_each_result_on_one_line() -> None:
    text = results_text(results(), columns=300)
    assert len(text.splitlines()) == 2 + 3 + 1 and LONG in text  # and the error's line


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert paint("finished", "green", io.StringIO()) == "finished"
    assert paint("finished", "green", Tty()) == "\x1b[32mfinished\x1b[0m"
    monkeypatch.setenv("NO_COLOR", "1")
    assert paint("finished", "green", Tty()) == "finished"
