"""The docker runtime (cli/container.py) on a real Docker API: Podman serving a busybox image."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from cli import container
from cli.config import Target
from cli.container import command
from cli.runner import Cancelled, execute
from tests.podman import IMAGE, podman_service


@pytest.fixture(scope="module")
def docker_host() -> Iterator[str]:
    with podman_service() as url:
        yield url


def run(target: Target, cwd: Path, host: str, cancel: threading.Event | None = None) -> tuple[int, str]:
    shown: list[bytes] = []
    ex = execute(command(target, cwd, {"benchhub.run": "r-1"}), cwd, {"BENCHHUB_DOCKER_HOST": host}, 60,
                 shown.append, cancel=cancel)  # fmt: skip
    return ex.exit_code, b"".join(shown).decode()


def test_the_command_runs_in_the_image_on_the_checkout_with_its_limits(
    tmp_path: Path, docker_host: str
) -> None:
    (tmp_path / "out.txt").write_text("BenchmarkBoxed-2 1000 1500 ns/op\n")
    target = Target(command="cat out.txt; echo \"in $PWD as $GREETING\"; exit 3", image=IMAGE, cpuset="0",
                    memory="64m", pids=64, env={"GREETING": "hello"})  # fmt: skip
    code, output = run(target, tmp_path, docker_host)
    assert code == 3
    assert output == "BenchmarkBoxed-2 1000 1500 ns/op\nin /work as hello\n"
    client = docker.DockerClient(base_url=docker_host)
    assert client.containers.list(all=True, filters={"label": "benchhub.run=r-1"}) == [], "removed after"


def test_cancel_stops_and_removes_the_container(tmp_path: Path, docker_host: str) -> None:
    cancel = threading.Event()
    client = docker.DockerClient(base_url=docker_host)
    target = Target(command="echo started; sleep 300", image=IMAGE, cpuset="0", memory="64m", pids=64)
    seen: list[dict[str, object]] = []

    def inspect_then_cancel() -> None:  # while it runs: its limits and label, then the cancel
        deadline = time.monotonic() + 30
        while not (found := client.containers.list(filters={"label": "benchhub.run=r-1"})):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if found:
            seen.append(found[0].attrs["HostConfig"])
        cancel.set()

    threading.Thread(target=inspect_then_cancel).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        run(target, tmp_path, docker_host, cancel)
    (host,) = seen
    assert (host["CpusetCpus"], host["Memory"], host["PidsLimit"]) == ("0", 64 * 2**20, 64)
    assert time.monotonic() - start < 60
    deadline = time.monotonic() + 20
    while client.containers.list(all=True, filters={"label": "benchhub.run=r-1"}):
        assert time.monotonic() < deadline, "the container outlived the cancel"
        time.sleep(0.2)


def test_a_missing_image_and_limits_without_an_image_are_one_line(tmp_path: Path, docker_host: str) -> None:
    code, output = run(Target(command="true", image="localhost/nothing:here"), tmp_path, docker_host)
    assert code == 125 and "image 'localhost/nothing:here' is not on this machine" in output
    with pytest.raises(ValueError, match="set 'image:' too"):
        Target(command="true", memory="1g")


def test_output_a_follow_that_never_ends_did_not_print_is_read_once_after_the_exit(
    capsys: pytest.CaptureFixture[bytes],
) -> None:
    # a stand-in container: Podman's endless follow of an exited container (podman#6627) cannot be caused on demand
    class Exited:
        def logs(self, stream: bool, follow: bool) -> Iterator[bytes] | bytes:
            if not follow:
                return b"first\nsecond\n"

            def endless() -> Iterator[bytes]:
                yield b"first\n"
                threading.Event().wait()  # never ends

            return endless()

        def wait(self) -> dict[str, int]:
            time.sleep(0.2)
            return {"StatusCode": 3}

    assert container._stream_until_exit(Exited()) == 3
    assert capsys.readouterr().out == "first\nsecond\n"
