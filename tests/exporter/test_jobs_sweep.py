"""What a job leaves outside its process group is found by the job id in its environment."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from cli.runner import execute
from exporter.jobs import JOB_ENV, sweep_escaped


def _running(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_a_daemon_started_with_setsid_is_stopped_after_the_job(tmp_path: Path) -> None:
    ex = execute("setsid sleep 77.25 > /dev/null 2>&1 < /dev/null & echo started", tmp_path,
                 {JOB_ENV: "run-1#1"}, 30, lambda _c: None)  # fmt: skip
    assert ex.exit_code == 0
    time.sleep(0.3)
    assert _running("sleep 77.25"), "it escaped the job's process group"
    assert sweep_escaped("run-1#2") == 0, "another attempt's processes are left alone"
    assert _running("sleep 77.25")
    assert sweep_escaped("run-1#1") == 1
    assert not _running("sleep 77.25")
