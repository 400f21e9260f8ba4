import os
import threading
import time
from pathlib import Path

import pytest

from cli.parsers.command import timing_results
from cli.runner import Cancelled, Execution, execute


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


def test_cancel_from_another_thread_stops_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()  # an agent's job cancelled in central
    with pytest.raises(Cancelled, match="cancelled: .* was stopped"):
        execute(f"sleep 60 & echo $! > {pidfile}; wait", tmp_path, {}, 60, lambda _c: None, cancel=cancel)
    child = int(pidfile.read_text())
    time.sleep(0.2)
    try:
        with open(f"/proc/{child}/stat") as fh:
            alive = fh.read().split()[2] != "Z"
    except FileNotFoundError:
        alive = False
    assert not alive, "the background child of the cancelled command survived"
    # not cancelled: the timeout still applies as before
    assert execute("sleep 5", tmp_path, {}, 0.3, lambda _c: None, cancel=threading.Event()).timed_out


def _ex(wall: float, user: float, system: float, rss: int) -> Execution:
    return Execution(0, "", wall, user, system, rss, False)


def test_timing_results_medians_and_samples() -> None:
    runs = [_ex(1.0, 0.4, 0.1, 10 << 20), _ex(3.0, 0.5, 0.2, 30 << 20), _ex(2.0, 0.45, 0.15, 20 << 20)]
    results = {r.measure: r for r in timing_results("build", runs)}
    wall = results["time"]
    assert (wall.benchmark, wall.unit, wall.value) == ("build", "s", 2.0)
    assert wall.samples == [1.0, 3.0, 2.0] and wall.sample_count == 3
    assert results["cpu_time"].value == pytest.approx(0.6)
    assert results["user_time"].value == 0.45 and results["system_time"].value == 0.15
    assert (results["max_rss"].value, results["max_rss"].unit) == (20 << 20, "B")


def test_execution_reports_its_own_max_rss_user_and_system_time(tmp_path: Path) -> None:
    # A child that touches 64 MiB, then a small one: each run reports its own peak.
    big = execute(
        "python3 -c 'b = bytearray(64 << 20); import time; time.sleep(0.05)'",
        tmp_path,
        {},
        30,
        lambda _c: None,
    )
    small = execute("python3 -c 'pass'", tmp_path, {}, 30, lambda _c: None)
    assert big.exit_code == small.exit_code == 0
    assert big.max_rss_bytes > 64 << 20
    assert small.max_rss_bytes < 40 << 20, "the peak of an earlier run leaked into this one"
    burn = execute("python3 -c 'sum(range(3_000_000))'", tmp_path, {}, 30, lambda _c: None)
    assert burn.user_seconds > 0.01 and burn.cpu_seconds == burn.user_seconds + burn.system_seconds
