"""``measure: instructions``: a command run under Valgrind's cachegrind, counted, not timed.

Wall time of the same command moves by several percent from run to run on a shared machine;
the instructions it executes do not (CodSpeed's and iai's approach). Each execution runs as
``valgrind --tool=cachegrind --cache-sim=yes --trace-children=yes -- SHELL -c COMMAND``, every
process it starts writes its counts to its own file, and the totals over all of them are:

- ``instructions`` (Ir), ``l1_misses`` (I1mr + D1mr + D1mw), ``ll_misses`` (ILmr + DLmr +
  DLmw), from cachegrind's ``summary:`` lines;
- ``estimated_cycles``: iai's model, L1 hits + 5 x last-level hits + 35 x RAM accesses, where
  accesses are Ir + Dr + Dw, L1 hits = accesses - L1 misses, last-level hits = L1 misses - LL
  misses, RAM accesses = LL misses.

Cachegrind's file format is documented in Valgrind's manual ("Cachegrind Output File
Format"): ``events:`` names the columns, ``summary:`` holds the totals. Read by hand: the
summary lines are all it takes, and valgrind ships no Python reader.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from cli.errors import BenchHubError

OUT_PREFIX = "cachegrind.out."
LOG_PREFIX = "valgrind.log."
MEASURES = ("instructions", "l1_misses", "ll_misses", "estimated_cycles")


@dataclass(frozen=True)
class Counts:
    instructions: int
    l1_misses: int
    ll_misses: int
    estimated_cycles: int

    def measure(self, name: str) -> float:
        return float(getattr(self, name))


def valgrind() -> str:
    found = shutil.which("valgrind")
    if found is None:
        raise BenchHubError("measure: instructions runs the command under valgrind, which is missing: "
                            "apt-get install valgrind")  # fmt: skip
    return found


def wrap(command: str, shell: str, out_dir: Path) -> str:
    """The shell command that runs ``command`` under cachegrind, its files in ``out_dir``."""
    argv = [
        valgrind(), "--tool=cachegrind", "--cache-sim=yes", "--trace-children=yes",
        f"--cachegrind-out-file={out_dir / OUT_PREFIX}%p", f"--log-file={out_dir / LOG_PREFIX}%p",
        "--", shell, "-c", command,
    ]  # fmt: skip
    return shlex.join(argv)


def _totals(path: Path) -> dict[str, int]:
    events: list[str] = []
    with path.open() as lines:
        for line in lines:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("summary:"):
                values = line.split()[1:]
                if not events or len(values) > len(events) or not all(v.isdigit() for v in values):
                    break
                return dict(zip(events, map(int, values), strict=False))
    raise BenchHubError(f"{path}: no cachegrind summary (events: and summary: lines); valgrind failed?")


def read_counts(out_dir: Path) -> Counts:
    """The totals of every process of one execution."""
    files = sorted(out_dir.glob(f"{OUT_PREFIX}*"))
    if not files:
        logs = sorted(out_dir.glob(f"{LOG_PREFIX}*"))
        said = logs[0].read_text(errors="replace").strip().splitlines()[-1:] if logs else []
        raise BenchHubError("cachegrind wrote no counts" + (f": {said[0]}" if said else ""))
    total: dict[str, int] = {}
    for path in files:
        for event, value in _totals(path).items():
            total[event] = total.get(event, 0) + value
    get = total.get
    if "Ir" not in total or "D1mr" not in total:
        raise BenchHubError(f"{files[0]}: cachegrind ran without --cache-sim=yes (no miss counts)")
    accesses = get("Ir", 0) + get("Dr", 0) + get("Dw", 0)
    l1 = get("I1mr", 0) + get("D1mr", 0) + get("D1mw", 0)
    ll = get("ILmr", 0) + get("DLmr", 0) + get("DLmw", 0)
    cycles = (accesses - l1) + 5 * (l1 - ll) + 35 * ll
    return Counts(instructions=get("Ir", 0), l1_misses=l1, ll_misses=ll, estimated_cycles=cycles)
