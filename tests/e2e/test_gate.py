"""The CI gate and bhubctl compare against the real stack (issue 17).

The benchmark is a script printing BenchHub JSON: 10 samples per benchmark around the centres
of ``speeds.json`` (committed, so commits change them), 1% noise seeded by BENCH_SEED. A file
``noisy-once`` (untracked) makes the next execution 30% slower, once.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveStack, bhubctl, git, make_repo

pytestmark = pytest.mark.e2e

BENCH = """import json, os, pathlib, random
speeds = json.loads(pathlib.Path("speeds.json").read_text())
once = pathlib.Path("noisy-once")
factor = 1.3 if once.exists() else 1.0
once.unlink(missing_ok=True)
rng = random.Random(int(os.environ.get("BENCH_SEED", "0")))
results = [{"benchmark": name, "measure": "time", "unit": "ns",
            "samples": [centre * factor * rng.gauss(1, 0.01) for _ in range(10)]}
           for name, centre in speeds.items()]
print(json.dumps({"benchhub": 1, "results": results}))
"""
BHUB_YAML = """version: 1
targets:
  bench:
    command: python3 bench.py
    framework: json
"""
REGRESSION_EXIT = 10


def commit(path: Path, speeds: dict[str, float], message: str) -> str:
    (path / "speeds.json").write_text(json.dumps(speeds))
    git(path, "commit", "-qam", message)
    return git(path, "rev-parse", "HEAD")


def run(live: LiveStack, path: Path, seed: int, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return bhubctl(live, path, "run", "bench", "-q", *args, BENCH_SEED=str(seed), **env)


@pytest.fixture(scope="module")
def repo(live: LiveStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """main: c1 (run), c2 (no run), c3 (run: Parse twice as fast); feature forks at c2."""
    path = tmp_path_factory.mktemp("gate") / "gate"
    files = {
        "bhub.yaml": BHUB_YAML,
        "bench.py": BENCH,
        "speeds.json": json.dumps({"Parse": 100, "Encode": 200}),
    }
    shas = {"c1": make_repo(path, files, "git@github.com:e2e-org/gate.git"), "path": str(path)}
    assert run(live, path, 1).returncode == 0
    shas["c2"] = commit(path, {"Parse": 100, "Encode": 200, "Docs": 1}, "docs only")
    git(path, "checkout", "-qb", "feature")
    git(path, "checkout", "-q", "main")
    shas["c3"] = commit(path, {"Parse": 50, "Encode": 200, "Docs": 1}, "faster parse")
    assert run(live, path, 3).returncode == 0
    git(path, "checkout", "-q", "feature")
    return shas


def test_a_slowdown_fails_the_gate_against_the_fork_point(live: LiveStack, repo: dict[str, str]) -> None:
    path = Path(repo["path"])
    git(path, "checkout", "-q", "feature")
    commit(path, {"Parse": 100, "Encode": 220, "Docs": 1}, "slower encode")
    report, summary = path.parent / "report.md", path.parent / "summary.md"
    proc = run(live, path, 11, "--baseline", "main", "--fail-on", "regression", "--report", str(report),
               GITHUB_STEP_SUMMARY=str(summary))  # fmt: skip
    assert proc.returncode == REGRESSION_EXIT, proc.stderr
    # the fork point c2 has no run: the baseline is c1's, not main's newest (c3, Parse 2x faster)
    assert (
        f"at {repo['c1'][:12]}, 1 first-parent commit before the merge-base {repo['c2'][:12]}" in proc.stderr
    )
    text = report.read_text()
    assert "1 regressed" in text and "| Encode | time |" in text and "regressed |" in text
    assert "Parse" not in text.split("<details>")[1]  # unchanged against the fork point
    assert "Not compared (on one side only): `Docs`" in text  # c1 had no Docs
    assert summary.read_text().strip() == text.strip()


def test_a_noisy_one_off_is_recovered_by_rerunning_suspects(live: LiveStack, repo: dict[str, str]) -> None:
    path = Path(repo["path"])
    git(path, "checkout", "-q", "feature")
    git(path, "reset", "-q", "--hard", repo["c2"])
    commit(path, {"Parse": 100, "Encode": 200, "Docs": 1.0001}, "no real change")
    (path / "noisy-once").write_text("")
    without = run(live, path, 21, "--baseline", "main", "--fail-on", "regression")
    assert without.returncode == REGRESSION_EXIT, without.stderr  # the slow one-off alone fails
    (path / "noisy-once").write_text("")
    proc = run(live, path, 22, "--baseline", "main", "--fail-on", "regression", "--rerun-suspects", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("re-running bench") == 2  # one-off + 1 rerun still suspect; + 2: merged away
    assert "0 regressed" in proc.stderr


def test_no_baseline_is_said_and_passes_unless_required(live: LiveStack, tmp_path: Path) -> None:
    path = tmp_path / "fresh"
    make_repo(path, {"bhub.yaml": BHUB_YAML, "bench.py": BENCH, "speeds.json": '{"A": 1}'},
              "git@github.com:e2e-org/fresh.git")  # fmt: skip
    git(path, "checkout", "-qb", "work")  # runs on work are not in main's history
    commit(path, {"A": 2}, "work")
    proc = run(live, path, 1, "--baseline", "main")
    assert proc.returncode == 0 and "nothing to compare" in proc.stderr
    assert run(live, path, 2, "--baseline", "main", "--require-baseline").returncode == 2
    missing = run(live, path, 3, "--baseline", "nope")
    assert missing.returncode == 2 and "no branch 'nope'" in missing.stderr
    assert "git fetch origin nope" in missing.stderr


def test_compare_branches_commits_and_formats(live: LiveStack, repo: dict[str, str]) -> None:
    path = Path(repo["path"])
    as_json = bhubctl(live, path, "compare", repo["c1"][:9], "main", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    rows = {r["benchmark"]: r for r in body["data"]}
    assert rows["Parse"]["verdict"] == "improved" and rows["Encode"]["verdict"] == "unchanged"
    assert rows["Docs"]["verdict"] == "added"
    for key in ("target", "benchmark", "measure", "labels", "base", "head", "change", "p_value", "verdict"):
        assert key in rows["Parse"]
    table = bhubctl(live, path, "compare", "main~2", "main", COLUMNS="100")
    assert table.returncode == 2 and "no run, commit or branch 'main~2'" in table.stderr
    table = bhubctl(live, path, "compare", f"commit:{repo['c1']}", "branch:main", COLUMNS="100")
    assert table.returncode == 0, table.stderr
    assert re.search(r"Parse .* -(49|50)\.\d\d% .* improved", table.stdout), table.stdout
    assert "1 improved" in table.stderr
    gated = bhubctl(
        live, path, "compare", "main", repo["c1"][:9], "--fail-on", "regression", "-f", "markdown"
    )
    assert gated.returncode == REGRESSION_EXIT and "| Parse | time |" in gated.stdout
    unknown = bhubctl(live, path, "compare", "no-such-branch", "main")
    assert unknown.returncode == 2 and "bhubctl runs list" in unknown.stderr
