"""Background stages (cli/stages.py) with real processes: ready checks, failures, teardown."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from cli.config import Stage, target_from
from cli.stages import StageError, running


def stage(run: str, /, **ready: object) -> Stage:
    return msgspec.convert({"name": "db", "command": run, "ready": {"timeout": 10, **ready}}, Stage)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_a_server_stage_is_ready_on_its_port_and_torn_down_after(tmp_path: Path) -> None:
    port, shown = free_port(), list[bytes]()
    server = stage(f"exec python3 -m http.server {port} --bind 127.0.0.1", tcp=port)
    with running([server], tmp_path, {}, tmp_path, shown.append) as started:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # the benchmark would talk to it here
        assert started.exited() is None
    assert not alive(f"http.server {port}"), "torn down"
    assert (tmp_path / "stage-db.log").exists()


def test_ready_by_a_line_of_output_or_a_command(tmp_path: Path) -> None:
    shown: list[bytes] = []
    logged = stage(
        "echo starting; sleep 0.3; echo 'Ready to accept connections'; sleep 31.5", log="Ready to accept"
    )
    marker = tmp_path / "up"
    commanded = msgspec.convert({"name": "svc", "command": f"sleep 0.2; touch {marker}; sleep 32.5",
                                 "ready": {"command": f"test -e {marker}"}}, Stage)  # fmt: skip
    start = time.monotonic()
    with running([logged, commanded], tmp_path, {}, tmp_path, shown.append):
        assert marker.exists()
    assert time.monotonic() - start < 9
    assert b"[stage db] Ready to accept connections\n" in shown
    assert not alive("sleep 31.5") and not alive("sleep 32.5")


def test_a_stage_that_never_gets_ready_or_dies_first_is_one_line(tmp_path: Path) -> None:
    never = stage("sleep 33.5", tcp=free_port(), timeout=0.5)
    with (
        pytest.raises(
            StageError, match=r"^stage 'db' was not ready within 0.5 s \(port 127.0.0.1:\d+ accepting\)$"
        ),
        running([never], tmp_path, {}, tmp_path, lambda _b: None),
    ):
        pass
    assert not alive("sleep 33.5"), "torn down all the same"
    dies = stage("echo 'cannot bind'; exit 4", tcp=free_port())
    refused = r"^stage 'db' exited with code 4 before it was ready: cannot bind$"
    with pytest.raises(StageError, match=refused), running([dies], tmp_path, {}, tmp_path, lambda _b: None):
        pass


def test_a_stage_that_exits_during_the_run_is_background_exited(tmp_path: Path) -> None:
    brief = stage("sleep 0.5", command="true")
    reports: list[tuple[str, str, str | None]] = []
    with running([brief], tmp_path, {}, tmp_path, lambda _b: None, lambda *r: reports.append(r)) as started:
        assert started.exited() is None
        time.sleep(1.0)
        assert started.exited() == "background_exited: stage 'db' exited with code 0 during the run"
    assert [state for _, state, _ in reports] == ["starting", "ready", "exited", "stopped"]


def test_teardown_reaches_what_a_stage_started_in_its_group(tmp_path: Path) -> None:
    forks = stage("sleep 34.5 & sleep 35.5 & wait", command="true")
    with running([forks], tmp_path, {}, tmp_path, lambda _b: None):
        time.sleep(0.2)
        assert alive("sleep 34.5") and alive("sleep 35.5")
    assert not alive("sleep 34.5") and not alive("sleep 35.5")


def test_stage_definitions_are_checked() -> None:
    with pytest.raises(msgspec.ValidationError, match="give exactly one of tcp"):
        msgspec.convert({"name": "db", "command": "x", "ready": {"tcp": 1, "command": "y"}}, Stage)
    with pytest.raises(msgspec.ValidationError, match="not a regular expression"):
        msgspec.convert({"name": "db", "command": "x", "ready": {"log": "("}}, Stage)
    twice = [{"name": "db", "command": "x", "ready": {"tcp": 1}}] * 2
    with pytest.raises(ValueError, match="stage names must differ"):
        target_from({"command": "true", "stages": twice})
