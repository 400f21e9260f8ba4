"""The agent as a runner: it takes jobs from central and runs them as ``bhubctl run`` would.

Pull, never push: the agent long-polls ``POST /api/v1/jobs/claim`` with its agent token (no
inbound port is needed on a benchmark machine), at most ``slots`` jobs at once, and an
exclusive job (the default: one benchmark at a time on a quiet machine) alone. A claimed job
comes with a token for that attempt only; everything the job does in central goes through it.

Each attempt gets a fresh workspace: a mirror of the repository kept per URL (fetched again
for each job), then a shared clone checked out at the job's exact commit, removed afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from central.job_schemas import JobClaimed
from central.schemas import RunState

if TYPE_CHECKING:
    from cli.client import CentralClient

log = logging.getLogger("exporter.jobs")
_GIT_TIMEOUT = 600.0
_RETRY_SECONDS = 5.0
HEARTBEAT_SECONDS = 1.0
SHIP_SECONDS = 0.5
REDELIVER_SECONDS = 2.0  # kept results: how often to try central again


class JobFailed(Exception):
    """A job that could not start (its checkout or its definition): the run fails with this."""


class Workspace:
    """Repository mirrors and per-attempt checkouts under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def checkout(
        self, url: str, commit: str, name: str, bundle: bytes | None = None, bundle_commit: str | None = None
    ) -> Path:
        """A clone of ``url`` at ``commit`` in a folder of its own (``name``); with ``bundle`` (a
        dirty tree's changes over ``commit``), at ``bundle_commit`` from it."""
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        mirror = self.root / "mirrors" / f"{key}.git"
        with lock:  # two jobs of one repository: one fetch at a time into its mirror
            if (mirror / "HEAD").exists():
                _git(["git", "-C", str(mirror), "remote", "update", "--prune"], f"fetch {url}")
            else:
                mirror.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(mirror, ignore_errors=True)
                _git(["git", "clone", "--quiet", "--mirror", url, str(mirror)], f"clone {url}")
        work = self.root / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        work.parent.mkdir(parents=True, exist_ok=True)
        _git(
            ["git", "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(work)],
            "clone the mirror",
        )
        try:
            _git(["git", "-C", str(work), "checkout", "--quiet", "--detach", commit], f"check out {commit}")
        except JobFailed:
            shutil.rmtree(work, ignore_errors=True)
            raise JobFailed(f"commit {commit} is not in {url}: push it before submitting") from None
        if bundle is not None and bundle_commit is not None:
            path = work / ".git" / "bhub-changes.bundle"
            path.write_bytes(bundle)
            try:
                _git(
                    ["git", "-C", str(work), "fetch", "--quiet", str(path), "refs/bhub/submit"],
                    "read the changes",
                )
                _git(
                    ["git", "-C", str(work), "checkout", "--quiet", "--detach", bundle_commit],
                    "check them out",
                )
            except JobFailed:
                shutil.rmtree(work, ignore_errors=True)
                raise
        return work

    def remove(self, work: Path) -> None:
        shutil.rmtree(work, ignore_errors=True)


def _git(argv: list[str], what: str) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=_GIT_TIMEOUT,
                       env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})  # fmt: skip
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise JobFailed(
            f"git could not {what}: {detail[-1] if detail else f'exit {exc.returncode}'}"
        ) from None
    except subprocess.TimeoutExpired:
        raise JobFailed(f"git could not {what} within {_GIT_TIMEOUT:g} s") from None


# '<run id>#<attempt>' in the environment of everything a job's attempt starts: per attempt,
# because a lost attempt's agent that comes back must stop its copy, not the next attempt's
JOB_ENV = "BENCHHUB_JOB_ID"


def sweep_escaped(attempt_id: str, grace: float = 2.0) -> int:
    """Stop what a job's attempt left behind outside its process group (a daemon started with
    setsid, a double fork): every process whose environment carries the attempt's id. How many
    were found."""
    import psutil

    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.environ().get(JOB_ENV) == attempt_id:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    for proc in found:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _, alive = psutil.wait_procs(found, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)
    if found:
        log.warning("job %s left %d process(es) outside its process group: stopped", attempt_id, len(found))
    return len(found)


class LogShipper:
    """Streams a job's output to central every SHIP_SECONDS (``bhubctl runs logs -f`` reads it).

    The command's bytes are decoded as they come (a character split between chunks waits for
    its rest); what central has not confirmed is sent again from its offset, so a failed send
    loses nothing. Kept at most MAX_PENDING characters behind (older text is skipped: central
    keeps only the last MiB anyway, and the runner's log file has all of it).
    """

    MAX_PENDING = 1 << 20

    def __init__(self, send: Callable[[int, str], int]) -> None:
        import codecs

        self._send = send
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()
        self._pending = ""
        self._offset = 0  # where _pending starts in the whole output
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="log-shipper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def write(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        with self._lock:
            self._pending += text
            if len(self._pending) > self.MAX_PENDING:
                cut = len(self._pending) - self.MAX_PENDING
                self._pending, self._offset = self._pending[cut:], self._offset + cut

    def ship(self) -> None:
        with self._lock:
            text, offset = self._pending, self._offset
        if not text:
            return
        try:
            have = self._send(offset, text)
        except Exception as exc:  # central away or refusing: sent again next time
            log.debug("output not shipped yet: %s", exc)
            return
        with self._lock:
            done = min(max(have - self._offset, 0), len(self._pending))
            self._pending, self._offset = self._pending[done:], self._offset + done

    def _loop(self) -> None:
        while not self._stop.wait(SHIP_SECONDS):
            self.ship()

    def close(self) -> None:
        """Ship what is left (before the run is closed: a closed run takes no more)."""
        self._stop.set()
        self._thread.join(SHIP_SECONDS + 15)
        with self._lock:
            self._pending += self._decoder.decode(b"", final=True)
        self.ship()


class JobWorker:
    """Claims jobs for this node and runs each in a thread of its own."""

    def __init__(
        self, central_url: str, node: str, token: Callable[[], str | None], workspace: Path, agent_url: str,
        labels: dict[str, str], slots: int, ready: Callable[[], bool], wait_seconds: float = 20.0,
        docker_host: str | None = None,
    ) -> None:  # fmt: skip
        self._base = central_url.rstrip("/")
        self._node, self._token, self._agent_url = node, token, agent_url
        self._labels, self._slots, self._ready, self._wait = labels, slots, ready, wait_seconds
        self._docker_host = docker_host
        self.workspace = Workspace(workspace)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, bool] = {}  # run id -> exclusive
        self._cancels: dict[str, threading.Event] = {}  # run id -> set to stop it
        self._threads: list[threading.Thread] = []
        self._loop_thread: threading.Thread | None = None

    def start(self) -> None:
        if self._docker_host:  # where a job's container runs (targets with 'image:')
            os.environ["BENCHHUB_DOCKER_HOST"] = self._docker_host
        self._loop_thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)
        self._loop_thread.start()

    def stop(self, grace: float = 30.0) -> None:
        """No more claims; the jobs running are stopped (closed 'cancelled') and waited for."""
        self._stop.set()
        with self._lock:
            cancels = list(self._cancels.values())
        for cancel in cancels:
            cancel.set()
        for thread in self._threads:
            thread.join(grace)
        if self._loop_thread is not None:  # a daemon, maybe in a long poll: not waited for long
            self._loop_thread.join(1)

    def _free(self) -> tuple[bool, bool]:
        """(whether a job may be claimed now, whether it may be an exclusive one)."""
        with self._lock:
            if any(self._running.values()) or len(self._running) >= self._slots:
                return False, False
            return True, not self._running

    def _loop(self) -> None:
        with httpx.Client(timeout=self._wait + 10) as http:
            while not self._stop.is_set():
                can, exclusive_ok = self._free()
                if not can or not self._ready():
                    self._stop.wait(0.2)
                    continue
                try:
                    claimed = self._claim(http, exclusive_ok)
                except (httpx.HTTPError, OSError, ValueError) as exc:
                    log.warning(
                        "claiming a job from %s failed (%s); again in %g s", self._base, exc, _RETRY_SECONDS
                    )
                    self._stop.wait(_RETRY_SECONDS)
                    continue
                if claimed is None:
                    continue
                if self._stop.is_set():  # claimed as the agent stops: never started, requeued by its lease
                    log.info("job %s claimed while stopping: left for another agent", claimed.run.id)
                    return
                with self._lock:
                    self._running[claimed.run.id] = claimed.exclusive
                thread = threading.Thread(target=self._run, args=(claimed,), name=f"job-{claimed.run.id[:8]}")
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                thread.start()

    def _claim(self, http: httpx.Client, exclusive_ok: bool) -> JobClaimed | None:
        token = self._token()
        response = http.post(
            f"{self._base}/api/v1/jobs/claim",
            json={"node_id": self._node, "labels": self._labels, "exclusive_ok": exclusive_ok,
                  "wait_seconds": self._wait},
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )  # fmt: skip
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise ValueError(f"central answered {response.status_code}: {response.text[:200]}")
        return JobClaimed.model_validate_json(response.content)

    def _heartbeat(self, run_id: str, token: str, cancel: threading.Event, done: threading.Event) -> None:
        """Every HEARTBEAT_SECONDS until the job is done: renew the job's lease in central and learn
        whether to stop (cancelled, or this attempt is over: the job was given up on or given to
        another agent). A cancelled job's lease is still renewed while it stops (grace, SIGKILL,
        the sweep, closing the run): else the reaper would call its node lost meanwhile."""
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
            while not done.wait(HEARTBEAT_SECONDS):
                try:
                    answer = http.post(f"{self._base}/api/v1/jobs/{run_id}/heartbeat")
                except httpx.HTTPError:
                    continue  # central away for a moment: the lease outlasts a few misses
                if answer.status_code in (401, 403, 409):
                    log.warning(
                        "job %s: central ended this attempt (%s): stopping it", run_id, answer.text[:200]
                    )
                    cancel.set()
                    return
                if (
                    answer.status_code == 200
                    and answer.json().get("cancel_requested")
                    and not cancel.is_set()
                ):
                    log.info("job %s cancelled in central: stopping it", run_id)
                    cancel.set()

    def _deliver_kept(self, central: CentralClient, run_dir: Path, run_id: str) -> None:
        """Central was away as the job ended, so its results and final state were kept on disk.
        No person runs 'bhubctl runs sync' on a benchmark machine: the agent delivers them once
        central is back, its heartbeats renewing the lease meanwhile. Until central refuses the
        attempt (given up on), or the agent stops (they stay on disk; the lease decides)."""
        from cli.delivery import PENDING, sync_one
        from cli.errors import ServiceError

        while (run_dir / PENDING).exists():
            try:
                sync_one(central, run_dir)
            except ServiceError as exc:
                if not exc.retryable:
                    log.warning("job %s: central refused its kept results: %s", run_id, exc)
                    return
                if self._stop.wait(REDELIVER_SECONDS):
                    return
            else:
                log.info("job %s: its kept results and final state are delivered", run_id)

    def _bundle(self, run_id: str, token: str) -> bytes:
        """The job's git bundle of local changes, from central with the job's token."""
        try:
            answer = httpx.get(f"{self._base}/api/v1/jobs/{run_id}/bundle",
                               headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip
        except httpx.HTTPError as exc:
            raise JobFailed(f"the local changes could not be fetched from central: {exc}") from None
        if answer.status_code != 200:
            raise JobFailed(f"the local changes could not be fetched from central ({answer.status_code})")
        return answer.content

    def _run(self, claimed: JobClaimed) -> None:
        # bhubctl's run path, loaded here: an agent that takes no jobs never imports it
        from cli.benchrun import run_job
        from cli.client import AgentClient, CentralClient
        from cli.config import target_from
        from cli.errors import BenchHubError
        from cli.wire import RunTransition as Transition

        run = claimed.run
        central = CentralClient(self._base, 30, token=claimed.token)
        agent = AgentClient(self._agent_url, 10, token=claimed.token)
        work: Path | None = None
        cancel, done = threading.Event(), threading.Event()
        with self._lock:
            self._cancels[run.id] = cancel
        watch = (run.id, claimed.token, cancel, done)
        attempt_id = f"{run.id}#{claimed.attempt}"
        name = f"cancel-{run.id[:8]}"
        threading.Thread(target=self._heartbeat, args=watch, name=name, daemon=True).start()
        try:
            try:
                target = target_from(claimed.definition)
                target = target.replace(env={**target.env, JOB_ENV: attempt_id})
                bundle = self._bundle(run.id, claimed.token) if claimed.bundle_commit else None
                work = self.workspace.checkout(
                    claimed.repository_url,
                    run.commit,
                    f"{run.id}-{claimed.attempt}",
                    bundle,
                    claimed.bundle_commit,
                )
            except (JobFailed, ValueError) as exc:
                reason = str(exc).splitlines()[0] if isinstance(exc, JobFailed) else f"bad target: {exc}"
                log.warning("job %s could not start: %s", run.id, reason)
                central.transition(run.id, Transition(state=RunState.running))
                central.transition(
                    run.id, Transition(state=RunState.failed, message=f"the job could not start: {reason}")
                )
                return
            shipping = CentralClient(self._base, 30, token=claimed.token)  # a connection per thread
            shipper = LogShipper(lambda offset, text: shipping.append_output(run.id, offset, text))
            shipper.start()
            try:
                outcome = run_job(
                    name=run.target, target=target, workdir=work, run_id=run.id, central=central, agent=agent,
                    runs_dir=self.workspace.root / "runs", echo=shipper.write, cancel=cancel,
                )  # fmt: skip
            finally:  # the run is closed by now with its whole output's tail: nothing is lost either way
                shipper.close()
                shipping.close()
            log.info("job %s %s (exit %d)", run.id, outcome.run.state.value, outcome.exit_code)
            self._deliver_kept(central, self.workspace.root / "runs" / run.id, run.id)
        except BenchHubError as exc:
            log.warning("job %s: %s", run.id, exc)
        except Exception:
            log.exception("job %s failed in the agent", run.id)
        finally:
            done.set()
            sweep_escaped(attempt_id)
            if work is not None:
                self.workspace.remove(work)
            with contextlib.suppress(Exception):
                central.close()
                agent.close()
            with self._lock:
                self._running.pop(run.id, None)
                self._cancels.pop(run.id, None)
