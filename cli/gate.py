"""The CI gate: find the baseline a change forked from, judge the run against it, write a report.

The baseline is the base branch's run at the merge-base of HEAD and that branch; when the
merge-base has no finished run, the first-parent history is walked back to the newest commit
that has one (what the branch looked like when the change forked, not what it is now).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cli import git
from cli.client import CentralClient
from cli.errors import BenchHubError

if TYPE_CHECKING:
    from central.compare_schemas import ComparisonPublic

# A regression survived the gate; the benchmark itself ran fine (its own failures keep their codes).
REGRESSION_EXIT = 10


class FailOn(enum.StrEnum):
    """--fail-on of compare and run: what makes the exit code REGRESSION_EXIT."""

    regression = "regression"
    never = "never"


_CHUNK = 100  # commits a request (central's limit)


@dataclass(frozen=True)
class Baseline:
    commit: str
    run_ids: list[str]
    why: str


def find_baseline(
    central: CentralClient, root: Path, branch: str, project: str, target: str, exclude: set[str]
) -> Baseline | None:
    """The newest finished runs of ``target`` at the fork point of HEAD from ``branch`` (or before)."""
    history = git.fork_history(root, branch)
    for start in range(0, len(history.commits), _CHUNK):
        chunk = history.commits[start : start + _CHUNK]
        params: dict[str, str | list[str]] = {
            "project": project, "target": target, "state": "finished", "commits": chunk, "limit": "1000",
        }  # fmt: skip
        runs = [r for r in central.list_runs(params).data if r.id not in exclude]
        for offset, commit in enumerate(chunk):
            ids = [r.id for r in runs if r.commit == commit]
            if not ids:
                continue
            walked = start + offset
            if walked == 0:
                why = f"the merge-base of HEAD and {history.branch_ref}"
            else:
                commits = f"{walked} first-parent commit{'s' if walked > 1 else ''}"
                why = (f"{commits} before the merge-base {history.merge_base[:12]} of HEAD and "
                       f"{history.branch_ref} (no finished run there)")  # fmt: skip
            return Baseline(commit, ids, why)
    return None


def judge(
    central: CentralClient, baseline: Baseline, head_ids: list[str], project: str, target: str
) -> ComparisonPublic:
    return central.compare({
        "base": "run:" + ",".join(baseline.run_ids), "head": "run:" + ",".join(head_ids),
        "project": project, "target": target,
    })  # fmt: skip


def regressed(comparison: ComparisonPublic) -> list[str]:
    """Names of the results that regressed."""
    from central.compare_schemas import Verdict
    from cli.compare_view import name_of

    return [f"{name_of(r)} ({r.measure})" for r in comparison.data if r.verdict == Verdict.regressed]


def publish(report: str, path: Path | None) -> list[Path]:
    """Write the Markdown report to ``path`` and append it to GitHub's job summary when set."""
    written = []
    if path is not None:
        try:
            path.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise BenchHubError(
                f"cannot write the report to {path} ({exc}): choose a writable --report"
            ) from None
        written.append(path)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(report + "\n")
        except OSError as exc:
            raise BenchHubError(f"cannot append to GITHUB_STEP_SUMMARY {summary} ({exc})") from None
        written.append(Path(summary))
    return written
