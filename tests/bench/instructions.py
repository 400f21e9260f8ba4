"""make bench-instructions: how much wall time and instruction counts move over 10 repeats of
the demo's command target (gofmt over examples/strings), measured as bhubctl measures them.

Prints the coefficient of variation (stddev / mean) of each: the reason for
``measure: instructions``.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from cli import cachegrind
from cli.runner import execute, user_shell

COMMAND = "gofmt -l . > /dev/null"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "strings"
REPEATS = 10


def cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values)


def main() -> None:
    walls, counts = [], []
    for _ in range(REPEATS + 1):  # the first of each is a warm-up
        walls.append(execute(COMMAND, EXAMPLE, {}, 60, lambda _b: None).wall_seconds)
        with tempfile.TemporaryDirectory() as tmp:
            ex = execute(cachegrind.wrap(COMMAND, user_shell(), Path(tmp)), EXAMPLE, {}, 300, lambda _b: None)
            assert ex.exit_code == 0, ex.output
            counts.append(cachegrind.read_counts(Path(tmp)))
    walls, counts = walls[1:], counts[1:]
    print(f"# make bench-instructions: '{COMMAND}' in examples/strings, {REPEATS} repeats each")
    print(f"{'measure':18} {'median':>14} {'CV':>9}")
    print(f"{'wall time (s)':18} {statistics.median(walls):14.4f} {cv(walls):9.3%}")
    for measure in cachegrind.MEASURES:
        values = [c.measure(measure) for c in counts]
        print(f"{measure:18} {statistics.median(values):14,.0f} {cv(values):9.3%}")


if __name__ == "__main__":
    main()
