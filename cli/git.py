"""What the repository says about a run: org/project from the remote, commit, branch, dirty flag.

The organization a run is stored in is the one of the central token; an org the user names
('org/name' in bhub.yaml or --project) is sent so central can refuse a mismatch.

Fallbacks (documented in README): no remote -> org ``local`` and the repository folder's name;
detached HEAD -> the branch CI names (GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME),
else ``detached``. Not a git repository is an error unless --commit, --branch and --project
are all given.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cli.errors import GitError

LOCAL_ORG = "local"
DETACHED = "detached"
_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")


@dataclass(frozen=True)
class RepoSlug:
    """Organization and project named by a remote URL."""

    org: str
    project: str


@dataclass(frozen=True)
class GitInfo:
    """Everything a run records about the code it measured."""

    root: Path | None
    commit: str
    branch: str
    dirty: bool
    remote_url: str | None
    org: str
    project: str
    org_named: bool = False  # the user wrote 'org/name': central checks it against the token's org

    @property
    def named_org(self) -> str | None:
        """The org the user named explicitly; otherwise central takes the token's org."""
        return self.org if self.org_named else None


def parse_remote_url(url: str) -> RepoSlug:
    """Split a remote URL (https, ssh, scp-like, file or local path) into org and project."""
    url = url.strip()
    if not url:
        raise GitError("empty git remote URL: set one with 'git remote add origin URL'")
    path: str
    local = False
    if "://" in url:
        parsed = urlparse(url)
        path = parsed.path
        local = parsed.scheme == "file"
    elif (m := _SCP_LIKE.match(url)) and not url.startswith(("/", ".", "~")):
        path = m.group("path")
    else:
        path = url
        local = True
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        raise GitError(f"cannot read org/project from git remote {url!r}: expected host/org/project")
    name = parts[-1].removesuffix(".git")
    if local:
        return RepoSlug(org=LOCAL_ORG, project=name)
    if len(parts) < 2:
        raise GitError(f"cannot read org/project from git remote {url!r}: expected host/org/project")
    return RepoSlug(org=parts[0], project="/".join([*parts[1:-1], name]))


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise GitError("git is not installed: apt-get install git") from None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _ci_branch() -> str | None:
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    return None


def detect(
    cwd: Path,
    *,
    commit: str | None = None,
    branch: str | None = None,
    project: str | None = None,
) -> GitInfo:
    """Read git state under ``cwd``; explicit overrides win over what git says."""
    root_text = _git(cwd, "rev-parse", "--show-toplevel")
    if root_text is None:
        if commit and branch and project:
            slug = split_project(project, LOCAL_ORG)
            return GitInfo(None, commit, branch, False, None, slug.org, slug.project, "/" in project)
        raise GitError(
            f"{cwd} is not inside a git repository: run bhubctl in your repository, "
            "or pass --commit, --branch and --project"
        )
    root = Path(root_text)
    head = commit or _git(root, "rev-parse", "HEAD")
    if head is None:
        raise GitError(f"{root}: the repository has no commit yet: commit once, or pass --commit")
    branch = branch or _git(root, "symbolic-ref", "--short", "-q", "HEAD") or _ci_branch() or DETACHED
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    remote = _git(root, "remote", "get-url", "origin")
    if remote is None:
        remotes = (_git(root, "remote") or "").split()
        remote = _git(root, "remote", "get-url", remotes[0]) if remotes else None
    default = parse_remote_url(remote) if remote else RepoSlug(LOCAL_ORG, root.name)
    slug = split_project(project, default.org) if project else default
    named = project is not None and "/" in project
    return GitInfo(root, head, branch, dirty, remote, slug.org, slug.project, named)


def split_project(value: str, default_org: str) -> RepoSlug:
    """'org/name' -> (org, name); a bare 'name' takes ``default_org``."""
    org, sep, name = value.partition("/")
    return RepoSlug(org, name) if sep else RepoSlug(default_org, value)


@dataclass(frozen=True)
class History:
    """Where a branch and HEAD forked, and the branch's first-parent history from there back."""

    branch_ref: str  # the ref that named the branch: BRANCH or origin/BRANCH
    merge_base: str
    commits: list[str]  # the merge-base first, then its first parents, newest first


def fork_history(root: Path, branch: str, head: str = "HEAD", depth: int = 1000) -> History:
    """The merge-base of ``head`` and ``branch`` (local, else origin's), then ``depth`` first parents."""
    for ref in (branch, f"origin/{branch}"):
        if _git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}") is not None:
            break
    else:
        raise GitError(
            f"no branch {branch!r} (nor origin/{branch}) in {root}: fetch it first "
            f"('git fetch origin {branch}'; CI checkouts are often shallow: fetch-depth: 0)"
        )
    merge_base = _git(root, "merge-base", head, ref)
    if merge_base is None:
        raise GitError(
            f"{head} and {ref} have no common commit in {root}: fetch more history "
            "('git fetch --unshallow', or fetch-depth: 0 in CI)"
        )
    listed = _git(root, "rev-list", "--first-parent", f"--max-count={depth}", merge_base) or merge_base
    return History(ref, merge_base, listed.split())


def repository_root(cwd: Path) -> Path:
    root = _git(cwd, "rev-parse", "--show-toplevel")
    if root is None:
        raise GitError(f"{cwd} is not inside a git repository: name a branch, commit or run instead")
    return Path(root)


def rev_parse(root: Path, name: str) -> str | None:
    """The full SHA of the commit ``name`` stands for (HEAD~2, a branch, a prefix), or None."""
    return _git(root, "rev-parse", "--verify", "-q", f"{name}^{{commit}}")
