"""bhubctl stack: idempotent up, exact down, clear errors."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from cli.errors import StackError
from cli.stack import Stack
from tests.e2e.conftest import LiveStack
from tests.servers import stack_env, stack_settings

pytestmark = pytest.mark.e2e


def pids(stack: Stack) -> dict[str, int | None]:
    return {s.name: s.pid for s in stack.status()}


def test_up_twice_starts_nothing_new(live: LiveStack) -> None:
    before = pids(live.stack)
    assert all(before.values())
    again = Stack(live.stack.settings)
    again.up()
    assert pids(again) == before
    assert {s.state for s in again.status()} == {"running"}


def test_status_command(live: LiveStack) -> None:
    env = {**live.env(), **stack_env(live.stack.settings)}
    proc = subprocess.run([sys.executable, "-m", "cli.main", "stack", "status"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("running") == 5


def test_scrape_config_keeps_exposed_timestamps_and_finds_agents_through_central(live: LiveStack) -> None:
    text = (live.stack.home / "vmagent" / "scrape.yml").read_text()
    assert text.count("honor_timestamps: true") == 2 and "scrape_interval: 1s" in text
    assert f"url: {live.central}/api/v1/sd/agents" in text
    groups = httpx.get(f"{live.central}/api/v1/sd/agents", headers=live.admin).json()
    assert [g["targets"] for g in groups] == [[f"127.0.0.1:{live.stack.settings.agent_port}"]]
    (node,) = httpx.get(f"{live.central}/api/v1/nodes", headers=live.auth).json()["data"]
    assert node["state"] == "up" and node["org"] == "e2e-org" and node["cpus"] >= 1
    assert (live.stack.home / "agent" / "node-id").read_text().strip() == node["id"]
    series = live.wait_for_series('benchhub_host_load1{job="benchhub-agent"}', 1)
    assert series[0]["metric"]["node"] == node["id"] and series[0]["metric"]["org"] == "e2e-org"


def test_port_taken_is_a_clear_error_and_starts_nothing(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.vm_port))
        squatter.listen()
        with pytest.raises(StackError) as err:
            Stack(settings).up()
    assert str(err.value) == (
        f"port {settings.vm_port} for victoria-metrics is taken by another process: stop it, "
        "or choose another port with BENCHHUB_STACK_VM_PORT"
    )
    assert list((tmp_path / "run").glob("*.pid")) == []


def test_missing_binary_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        StackError,
        match=r"victoria-metrics is not installed: install it with 'apt-get install victoria-metrics'",
    ):
        Stack(stack_settings(tmp_path)).up()


def test_down_stops_exactly_what_up_started(tmp_path: Path) -> None:
    stack = Stack(stack_settings(tmp_path / "home"))
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        stack.up()
        started = [p for p in pids(stack).values() if p]
        assert len(started) == 5
        stack.down()
        assert not any(
            psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in started
        )
        assert {s.state for s in stack.status()} == {"stopped"}
        assert bystander.poll() is None
    finally:
        stack.down()
        bystander.kill()
        bystander.wait()


def test_stale_pid_file_is_never_killed(tmp_path: Path) -> None:
    stack = Stack(stack_settings(tmp_path))
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        stack.run_dir.mkdir(parents=True)
        create_time = psutil.Process(bystander.pid).create_time()
        record = {"pid": bystander.pid, "create_time": create_time - 100, "argv": ["central"]}
        (stack.run_dir / "central.pid").write_text(json.dumps(record))
        stack.down()
        assert bystander.poll() is None, "down killed a process it did not start"
        assert not (stack.run_dir / "central.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_a_stepped_wall_clock_keeps_the_stack_its_own(tmp_path: Path) -> None:
    """A process's create_time moves when the wall clock is stepped; its start in ticks since
    boot does not: the stack still knows its process, and still refuses a stranger's."""
    stack = Stack(stack_settings(tmp_path))
    mine = subprocess.Popen(["sleep", "300"])
    try:
        stack.run_dir.mkdir(parents=True)
        ticks = int(Path(f"/proc/{mine.pid}/stat").read_text().rpartition(")")[2].split()[19])
        shifted = psutil.Process(mine.pid).create_time() - 100  # as if the clock had stepped 100 s
        for name, recorded in (("central", ticks), ("agent", ticks - 1)):
            record = {"pid": mine.pid, "create_time": shifted, "start_ticks": recorded, "argv": ["sleep"]}
            (stack.run_dir / f"{name}.pid").write_text(json.dumps(record))
        found = {s.name: (s.pid, s.state) for s in stack.status()}
        assert found["central"][0] == mine.pid  # its own (unhealthy: sleep answers no health check)
        assert found["agent"] == (None, "stopped")
        assert not (stack.run_dir / "agent.pid").exists()
    finally:
        mine.kill()
        mine.wait()


def test_unknown_log_service(live: LiveStack) -> None:
    with pytest.raises(
        StackError,
        match="no stack service 'grafana'; services: victoria-metrics, central, agent, vmalert, vmagent",
    ):
        live.stack.tail("grafana")
    assert "Application startup complete" in live.stack.tail("central", 100_000)


def test_stack_bootstraps_tokens_kept_private_and_stable(live: LiveStack) -> None:
    home = live.stack.home
    files = {p.name: p for p in (home / "secrets").iterdir()}
    assert set(files) == {"admin-token", "token", "agent-token"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files.values())
    assert (home / "secrets").stat().st_mode & 0o777 == 0o700
    before = {name: p.read_text() for name, p in files.items()}
    Stack(live.stack.settings).up()  # up again: the tokens still work, so they are kept
    assert {name: p.read_text() for name, p in files.items()} == before
    me = httpx.get(f"{live.central}/api/v1/whoami", headers=live.auth).json()
    assert me == {"org": "e2e-org", "role": "admin", "actor": "token:local-admin"}
    assert httpx.get(f"{live.central}/api/v1/runs").status_code == 401
    log = (home / "logs" / "central.log").read_text()
    assert all(value.strip() not in log for value in before.values())


def test_bhubctl_admin_mints_a_token_that_works_and_revokes_it(live: LiveStack, tmp_path: Path) -> None:
    def admin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli.main", "admin", *args], env=live.env(**env),
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    made = admin("orgs", "create", "team-b")
    assert made.returncode == 0, made.stderr
    minted = admin("tokens", "create", "--org", "team-b", "--name", "ci", "--role", "writer")
    assert minted.returncode == 0 and "shown only now" in minted.stderr
    token = minted.stdout.strip()
    assert token.startswith("bhub_")
    me = admin("whoami", BENCHHUB_TOKEN=token)
    assert "writer of team-b" in me.stdout, me.stdout + me.stderr
    denied = admin("tokens", "list", BENCHHUB_TOKEN=token)  # a writer cannot manage tokens
    assert (
        denied.returncode != 0 and "403" in denied.stderr and "bhubctl admin tokens create" in denied.stderr
    )
    listed = admin("tokens", "list", "--org", "team-b")
    assert "ci" in listed.stdout and token not in listed.stdout
    token_id = httpx.get(f"{live.central}/api/v1/admin/orgs/team-b/tokens", headers=live.admin).json()[
        "data"
    ][0]["id"]
    owner = admin("tokens", "create", "--org", "team-b", "--name", "boss", "--role", "admin").stdout.strip()
    assert admin("tokens", "revoke", str(token_id), BENCHHUB_TOKEN=owner).returncode == 0
    gone = admin("whoami", BENCHHUB_TOKEN=token)
    assert gone.returncode != 0 and "401" in gone.stderr and "revoked" in gone.stderr
    # one line, saying what to do, when there is no token at all
    bare = subprocess.run([sys.executable, "-m", "cli.main", "admin", "whoami"], capture_output=True, text=True,
                          env={**live.env(), "BENCHHUB_HOME": str(tmp_path)}, timeout=60)  # fmt: skip
    assert bare.returncode != 0 and len(bare.stderr.strip().splitlines()) == 1
    assert "set BENCHHUB_TOKEN" in bare.stderr


def test_vmagent_scrapes_itself_and_the_external_names_are_real(live: LiveStack) -> None:
    from exporter.metrics import EXTERNAL

    live.wait_for_series('up{job="vmagent"}', 1)
    live.wait_for_series('up{job="vmalert"}', 1)
    exposed = httpx.get(f"http://127.0.0.1:{live.stack.settings.vmagent_port}/metrics").text
    names = {
        line.split("{")[0].split(" ")[0] for line in exposed.splitlines() if line and not line.startswith("#")
    }
    vmagent_names = {spec.name for key, spec in EXTERNAL.items() if key not in ("up", "alerts")}
    assert vmagent_names <= names, sorted(vmagent_names - names)


def test_every_agent_series_carries_its_org(live: LiveStack) -> None:
    live.wait_for_series('benchhub_host_load1{job="benchhub-agent"}', 1)
    everything = live.export('{job="benchhub-agent"}')
    assert len(everything) > 50  # host and agent series are really there
    assert {s["metric"].get("org") for s in everything} == {"e2e-org"}


@pytest.mark.skipif(not Path("/usr/bin/go").exists(), reason="go: apt-get install golang-go")
def test_the_readme_demo_runs_a_real_benchmark_into_victoriametrics(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path / "home")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BENCHHUB_")},
           "BENCHHUB_HOME": str(settings.home), "GOCACHE": str(tmp_path / "gocache"),
           **stack_env(settings)}  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    try:
        demo = subprocess.run(["bash", str(root / "stack" / "demo.sh")], env=env, capture_output=True, text=True,
                              timeout=600)  # fmt: skip
    finally:
        Stack(settings).down()
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "==> PromQL:" in demo.stdout and "BenchmarkConcatBuilder" in demo.stdout


def test_state_is_the_owner_s_only(live: LiveStack) -> None:
    # before: central.db (token hashes, the orgs' S3 secrets), logs/ and runs/ were world-readable

    home = live.stack.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "central.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "logs" / "central.log").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "secrets" / "token").stat().st_mode) == 0o600
