"""A real Docker-compatible API for tests: Podman (Debian) serving a socket, a busybox image.

No image registry is reachable, so the image is imported from a busybox rootfs. This host
mixes cgroup v1 and v2 and may not raise rlimits: runc, cgroupfs and explicit ulimits (see
../shared/COMPONENTS.md). All state lives in a temp dir that is unmounted and removed after.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IMAGE = "localhost/bhub-test:latest"
_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
_APPLETS = ("sh", "sleep", "cat", "echo", "head", "tr", "dd", "true")


def _busybox_rootfs(root: Path) -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox not found: apt-get install busybox-static (or run 'make setup-test')")
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir()
    shutil.copy(busybox, root / "bin/busybox")
    for applet in _APPLETS:
        (root / "bin" / applet).symlink_to("busybox")


def _unmount_below(path: Path) -> None:
    with open("/proc/mounts") as fh:
        mounts = [line.split()[1] for line in fh if line.split()[1].startswith(str(path))]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


def _answers(path: Path) -> bool:
    """GET /_ping over the socket; a plain socket, closed whatever happens (no leak on refusal)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
            return sock.recv(64).split(b" ", 2)[1:2] == [b"200"]
        except OSError:
            return False


@contextmanager
def podman_service() -> Iterator[str]:
    """Yields the API's base URL, ``unix:///.../podman.sock``, with IMAGE imported."""
    if shutil.which("podman") is None:
        raise RuntimeError(
            "podman not found: apt-get install podman runc busybox-static (or 'make setup-test')"
        )
    base = Path(tempfile.mkdtemp(prefix="bhub-podman-"))
    (base / "containers.conf").write_text(_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(base / "containers.conf")}
    podman = [
        "podman",
        "--root",
        str(base / "root"),
        "--runroot",
        str(base / "run"),
        "--tmpdir",
        str(base / "tmp"),
    ]
    _busybox_rootfs(base / "rootfs")
    with subprocess.Popen(["tar", "-C", str(base / "rootfs"), "-c", "."], stdout=subprocess.PIPE) as tar:
        subprocess.run(
            [*podman, "import", "-", IMAGE], stdin=tar.stdout, env=env, check=True, capture_output=True
        )
    api_socket = base / "podman.sock"
    log = (base / "service.log").open("w")
    service = subprocess.Popen([*podman, "system", "service", "--time=0", f"unix://{api_socket}"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _answers(api_socket):
            if time.monotonic() > deadline or service.poll() is not None:
                raise RuntimeError(f"podman system service did not start; see {base / 'service.log'}")
            time.sleep(0.1)
        yield f"unix://{api_socket}"
    finally:
        subprocess.run([*podman, "rm", "-af", "-t", "0"], env=env, check=False, capture_output=True)
        service.terminate()
        try:
            service.wait(10)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()
        _unmount_below(base)
        shutil.rmtree(base, ignore_errors=True)
