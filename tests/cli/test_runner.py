import os
import time
from pathlib import Path

from cli.parsers.command import timing_results
from cli.runner import execute


def test_streams_and_captures_merged_output(tmp_path: Path) -> None:
    seen: list[bytes] = []
    ex = execute("echo out; echo err >&2; exit 3", tmp_path, {}, 10, seen.append)
    assert ex.exit_code == 3 and not ex.timed_out
    assert "out" in ex.output and "err" in ex.output
    assert b"".join(seen).decode() == ex.output


def test_env_and_cwd(tmp_path: Path) -> None:
    ex = execute('echo "$BHUB_X $(pwd)"', tmp_path, {"BHUB_X": "yes"}, 10, lambda _c: None)
    assert ex.output.strip() == f"yes {tmp_path}"


def test_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    start = time.monotonic()
    ex = execute(f"sleep 60 & echo $! > {pidfile}; wait", tmp_path, {}, 0.5, lambda _c: None)
    assert ex.timed_out and ex.exit_code == 124
    assert time.monotonic() - start < 30
    child = int(pidfile.read_text())
    time.sleep(0.2)
    alive = True
    try:
        os.kill(child, 0)
        with open(f"/proc/{child}/stat") as fh:
            alive = fh.read().split()[2] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        alive = False
    assert not alive, "the background child of the timed-out command survived"


def test_timing_results_medians_and_samples() -> None:
    results = timing_results("build", [1.0, 3.0, 2.0], [0.5, 0.7, 0.6])
    wall = results[0]
    assert (wall.benchmark, wall.measure, wall.unit, wall.value) == ("build", "time", "s", 2.0)
    assert wall.samples == [1.0, 3.0, 2.0] and wall.sample_count == 3
    assert results[1].measure == "cpu_time" and results[1].value == 0.6
