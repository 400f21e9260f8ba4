"""cachegrind's counts: read from its real output files, summed over the processes of a run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli import cachegrind
from cli.errors import BenchHubError
from cli.parsers.command import instruction_results

DATA = Path(__file__).resolve().parents[1] / "data" / "cachegrind"
# the file's own events and summary lines
_LINES = dict(
    line.split(":", 1) for line in (DATA / "cachegrind.out.16581").read_text().splitlines() if ":" in line
)
SUMMARY = dict(zip(_LINES["events"].split(), map(int, _LINES["summary"].split()), strict=True))


def test_counts_of_one_process_follow_its_summary_and_iai_s_cycle_model(tmp_path: Path) -> None:
    shutil.copy(DATA / "cachegrind.out.16581", tmp_path)
    counts = cachegrind.read_counts(tmp_path)
    s = SUMMARY
    l1 = s["I1mr"] + s["D1mr"] + s["D1mw"]
    ll = s["ILmr"] + s["DLmr"] + s["DLmw"]
    assert (counts.instructions, counts.l1_misses, counts.ll_misses) == (s["Ir"], l1, ll)
    assert counts.estimated_cycles == (s["Ir"] + s["Dr"] + s["Dw"] - l1) + 5 * (l1 - ll) + 35 * ll


def test_every_process_of_the_command_counts(tmp_path: Path) -> None:
    for pid in (1, 2):
        shutil.copy(DATA / "cachegrind.out.16581", tmp_path / f"cachegrind.out.{pid}")
    assert cachegrind.read_counts(tmp_path).instructions == 2 * SUMMARY["Ir"]
    (result, *_) = instruction_results("t", [cachegrind.read_counts(tmp_path)] * 3)
    assert (result.measure, result.unit, result.value, result.sample_count) == (
        "instructions", "instructions", 2 * SUMMARY["Ir"], 3,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({}, "cachegrind wrote no counts: ==1== valgrind: the 'impossible' happened"),
        ({"cachegrind.out.7": "events: Ir\n"}, "no cachegrind summary"),
        ({"cachegrind.out.7": "events: Ir\nsummary: 12\n"}, "without --cache-sim=yes"),
        ({"cachegrind.out.7": "events: Ir I1mr\nsummary: 12 x\n"}, "no cachegrind summary"),
    ],
)
def test_missing_or_broken_counts_are_one_clear_error(
    tmp_path: Path, files: dict[str, str], error: str
) -> None:
    (tmp_path / "valgrind.log.1").write_text("==1== valgrind: the 'impossible' happened\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BenchHubError, match=error.replace("(", r"\(")):
        cachegrind.read_counts(tmp_path)
