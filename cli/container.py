"""The docker runtime: a target with ``image:`` runs in a container, through the Docker SDK.

Run as the target's command (``python -m cli.container ... -- COMMAND``), so everything that
holds for a command holds for the container: its output is the run's (parsed as usual), the
timeout and a cancel stop it (SIGINT/SIGTERM to this helper stop and remove the container), and
its exit code is the command's. The checkout is mounted at /work (the working directory); the
container gets the target's CPU set, memory and pids limits and the labels given (the job's id),
and is removed afterwards. Podman's Docker API serves it as well (the tests use it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.config import Target

WORKDIR = "/work"
_FOLLOW_GRACE_SECONDS = 3.0  # after the exit, for the followed output to end by itself


def command(target: Target, cwd: Path, labels: dict[str, str]) -> str:
    """The shell command that runs ``target`` in its image, ``cwd`` mounted as the work folder."""
    argv = [sys.executable, "-m", "cli.container", "--image", target.image or "", "--workdir", str(cwd)]
    for flag, value in (("--cpuset", target.cpuset), ("--memory", target.memory), ("--pids", target.pids)):
        if value is not None:
            argv += [flag, str(value)]
    for key, value in {**labels, **{f"env:{k}": v for k, v in target.env.items()}}.items():
        argv += ["--label" if not key.startswith("env:") else "--env", f"{key.removeprefix('env:')}={value}"]
    return shlex.join([*argv, "--", target.command])


def main(argv: list[str] | None = None) -> int:
    import docker
    from docker.errors import DockerException, ImageNotFound

    parser = argparse.ArgumentParser(prog="python -m cli.container", description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--cpuset")
    parser.add_argument("--memory")
    parser.add_argument("--pids", type=int)
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("command")
    args = parser.parse_args(argv)
    host = (
        os.environ.get("BENCHHUB_DOCKER_HOST")
        or os.environ.get("DOCKER_HOST")
        or "unix:///var/run/docker.sock"
    )
    try:
        client = docker.DockerClient(base_url=host, timeout=60)
        options: dict[str, Any] = {
            "command": ["sh", "-c", args.command], "working_dir": WORKDIR, "detach": True,
            "volumes": {str(args.workdir.resolve()): {"bind": WORKDIR, "mode": "rw"}},
            "labels": dict(item.split("=", 1) for item in args.label),
            "environment": dict(item.split("=", 1) for item in args.env),
            "cpuset_cpus": args.cpuset, "mem_limit": args.memory, "pids_limit": args.pids,
        }  # fmt: skip
        container = client.containers.run(args.image, **{k: v for k, v in options.items() if v is not None})
    except ImageNotFound:
        print(
            f"bhubctl: image {args.image!r} is not on this machine (pull or build it there)", file=sys.stderr
        )
        return 125
    except DockerException as exc:
        print(f"bhubctl: the container could not start at {host}: {exc}", file=sys.stderr)
        return 125

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        code = _stream_until_exit(container)
    except KeyboardInterrupt:
        container.stop(timeout=5)
        code = 130
    finally:
        with contextlib.suppress(DockerException):
            container.remove(force=True)
    return code


def _stream_until_exit(container: Any) -> int:
    """Print the container's output as it comes; its exit code.

    The output is followed in a thread while this one waits for the exit: Podman's follow
    can go on forever for a container that exited before it began (podman#6627, #11461). After
    the exit the follow gets a few seconds to finish; if it has not, what it did not print is
    read once without following (the log from the bytes already printed on).
    """
    lock, printed, done = threading.Lock(), [0], threading.Event()

    def write(chunk: bytes) -> None:
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        printed[0] += len(chunk)

    def follow() -> None:
        with contextlib.suppress(Exception):  # closed under it, below
            for chunk in container.logs(stream=True, follow=True):
                with lock:
                    if done.is_set():
                        return
                    write(chunk)

    follower = threading.Thread(target=follow, name="container-logs", daemon=True)
    follower.start()
    code = int(container.wait()["StatusCode"])
    follower.join(_FOLLOW_GRACE_SECONDS)
    if follower.is_alive():
        with lock:
            done.set()
            rest = container.logs(stream=False, follow=False)[printed[0] :]
            if rest:
                write(rest)
    return code


if __name__ == "__main__":
    sys.exit(main())
