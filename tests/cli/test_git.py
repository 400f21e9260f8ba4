import subprocess
from pathlib import Path

import pytest

from cli.errors import GitError
from cli.git import DETACHED, LOCAL_ORG, RepoSlug, detect, fork_history, parse_remote_url


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/acme/widgets.git", RepoSlug("acme", "widgets")),
        ("https://github.com/acme/widgets", RepoSlug("acme", "widgets")),
        ("https://user:tok@github.com/acme/widgets/", RepoSlug("acme", "widgets")),
        ("git@github.com:acme/widgets.git", RepoSlug("acme", "widgets")),
        ("github.com:acme/widgets", RepoSlug("acme", "widgets")),
        ("ssh://git@gitlab.example.com:2222/acme/widgets.git", RepoSlug("acme", "widgets")),
        ("https://gitlab.com/group/sub/widgets.git", RepoSlug("group", "sub/widgets")),
        ("git@gitlab.com:group/sub/widgets.git", RepoSlug("group", "sub/widgets")),
        ("/srv/git/widgets.git", RepoSlug(LOCAL_ORG, "widgets")),
        ("../widgets", RepoSlug(LOCAL_ORG, "widgets")),
        ("file:///srv/git/widgets.git", RepoSlug(LOCAL_ORG, "widgets")),
    ],
)
def test_parse_remote_url(url: str, slug: RepoSlug) -> None:
    assert parse_remote_url(url) == slug


@pytest.mark.parametrize("url", ["", "https://github.com/", "https://github.com/onlyone"])
def test_parse_remote_url_rejects(url: str) -> None:
    with pytest.raises(GitError):
        parse_remote_url(url)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "widgets"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "f.txt").write_text("1")
    git(path, "add", "f.txt")
    git(path, "commit", "-qm", "one")
    return path


def test_detect_reads_commit_branch_remote_dirty(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    info = detect(repo)
    assert (info.org, info.project, info.branch, info.dirty) == ("acme", "widgets", "main", False)
    assert info.commit == git(repo, "rev-parse", "HEAD")
    (repo / "f.txt").write_text("2")
    assert detect(repo).dirty is True


def test_untracked_files_do_not_make_dirty(repo: Path) -> None:
    (repo / "new.txt").write_text("x")
    assert detect(repo).dirty is False


def test_no_remote_falls_back_to_local_and_folder_name(repo: Path) -> None:
    info = detect(repo)
    assert (info.org, info.project, info.remote_url) == (LOCAL_ORG, "widgets", None)


def test_detached_head_uses_ci_branch_or_detached(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "checkout", "-q", "--detach")
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME"):
        monkeypatch.delenv(var, raising=False)
    assert detect(repo).branch == DETACHED
    monkeypatch.setenv("CI_COMMIT_REF_NAME", "feature/x")
    assert detect(repo).branch == "feature/x"


def test_overrides_win(repo: Path) -> None:
    info = detect(repo, commit="abc123", branch="rel", project="other/thing")
    assert (info.commit, info.branch, info.org, info.project) == ("abc123", "rel", "other", "thing")
    assert info.named_org == "other"  # named by the user: central checks it against the token's org


def test_bare_project_override_keeps_remote_org(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://github.com/acme/widgets")
    assert (detect(repo, project="gadgets").org, detect(repo, project="gadgets").project) == (
        "acme",
        "gadgets",
    )
    assert detect(repo, project="gadgets").named_org is None  # the remote's org is not sent: the token's wins


def test_not_a_repo_is_an_error_unless_everything_is_given(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository.*--commit, --branch and --project"):
        detect(tmp_path)
    info = detect(tmp_path, commit="c1", branch="b", project="o/p")
    assert (info.org, info.project, info.commit, info.root, info.named_org) == ("o", "p", "c1", None, "o")


def test_repo_without_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError, match="no commit yet"):
        detect(tmp_path)


def test_fork_history_starts_at_the_merge_base_and_follows_first_parents(repo: Path) -> None:
    """main: a - b - c - d; feature forks at c: c - f1. The history is c, b, a (not d)."""
    shas = {"a": git(repo, "rev-parse", "HEAD")}
    for name in "bc":
        (repo / "f").write_text(name)
        git(repo, "add", "f")
        git(repo, "commit", "-qm", name)
        shas[name] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "feature")
    (repo / "g").write_text("f1")
    git(repo, "add", "g")
    git(repo, "commit", "-qm", "f1")
    git(repo, "checkout", "-q", "main")
    (repo / "f").write_text("d")
    git(repo, "commit", "-qam", "d")
    git(repo, "checkout", "-q", "feature")
    history = fork_history(repo, "main")
    assert history.merge_base == shas["c"] and history.branch_ref == "main"
    assert history.commits == [shas["c"], shas["b"], shas["a"]]
    # only origin/main exists (a CI checkout): found there
    git(repo, "update-ref", "refs/remotes/origin/trunk", "main")
    assert fork_history(repo, "trunk").branch_ref == "origin/trunk"
    with pytest.raises(GitError, match="no branch 'nope' .*git fetch origin nope"):
        fork_history(repo, "nope")
