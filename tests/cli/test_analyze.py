"""bhubctl analyze HISTORY.csv: the detector offline, its JSON and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", *args], capture_output=True, text=True
    )


def test_json_names_the_step_and_its_commit(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    values = np.r_[np.full(60, 2.0), np.full(50, 2.3), np.full(40, 2.0)] * (1 + rng.normal(0, 0.01, 150))
    rows = ["timestamp,commit,value"] + [
        f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z,sha{i},{v}" for i, v in enumerate(values)
    ]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n")
    proc = analyze(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    points = json.loads(proc.stdout)["change_points"]
    assert [p["index"] for p in points] == [60, 110]
    assert [p["commit"] for p in points] == ["sha60", "sha110"]
    assert set(points[0]) == {"index", "commit", "before", "after", "change", "p_value"}
    assert points[0]["change"] == pytest.approx(0.15, abs=0.01) and points[1]["change"] < 0
    table = analyze(str(path))
    assert table.returncode == 0 and "sha60" in table.stdout and "2 change points in 150 runs" in table.stderr


def test_value_only_csv_has_null_commits(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("value\n" + "\n".join(["10"] * 30 + ["13"] * 30) + "\n")
    (point,) = json.loads(analyze(str(path), "--json").stdout)["change_points"]
    assert point["index"] == 30 and point["commit"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("commit,value\na,1\nb,x\n", "h.csv:3: column value: 'x' is not a number"),
        ("commit,time\na,1\n", "h.csv:1: the header row needs a 'value' column"),
        ("value\n1\n2,3\n", "h.csv:3: more fields than the header has"),
        ("value\n1\nnan\n", "h.csv:3: column value: 'nan' is not a finite number"),
        ("value\n1\n", "h.csv: 1 value(s); a history needs at least 2 rows"),
    ],
)
def test_a_malformed_csv_is_one_line_naming_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text)
    proc = analyze(str(path))
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
