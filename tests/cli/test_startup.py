"""bhubctl starts without the libraries only some commands need (issue 16)."""

from __future__ import annotations

import subprocess
import sys

from cli.main import COMMANDS

# Libraries of the server side or of one command each: no command pays for them at start-up.
HEAVY = ("sqlalchemy", "alembic", "fastapi", "uvicorn", "psycopg", "boto3", "botocore", "s3transfer",
         "numpy", "scipy", "grafana_client", "niquests", "docker", "central.app", "central.db",
         "central.repository", "central.compare", "central.stats")  # fmt: skip


def _loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_importing_bhubctl_loads_no_command_and_a_command_no_heavy_module() -> None:
    bare = _loaded("import cli.main")
    assert not {m for m in bare if m.startswith(("cli.commands", "typer"))}, (
        "--help imports no command, no typer"
    )
    app = _loaded("import cli.app")
    assert not {m for m in app if m.startswith("cli.commands")}, "the app imports a command only to run it"
    # every command, loaded as when it is run: none pays for the heavy modules of another
    loaded = _loaded("import cli.app\nfor name in cli.app.COMMANDS: cli.app.load(name)")
    assert {"cli.commands.run", "cli.commands.backup", "cli.commands.grafana"} <= loaded
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"loading the commands loads {heavy}: import them inside the command that needs them"


def test_run_pays_for_no_http_library_and_no_settings_library() -> None:
    # httpx costs ~130 ms to import and ~40 ms per client (TLS set up even for http://);
    # pydantic-settings ~100 ms for seven variables
    loaded = _loaded("import cli.app\ncli.app.load('run')\nimport cli.settings\ncli.settings.CliSettings()")
    assert "cli.benchrun" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("httpx", "httpcore", "pydantic_settings")}


def test_help_and_version() -> None:
    helped = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--install-completion" in helped.stdout and "runs" in helped.stdout
    bare = subprocess.run([sys.executable, "-m", "cli.main"], capture_output=True, text=True)
    assert bare.returncode == 0 and bare.stdout == helped.stdout
    for name, (_, _, summary) in COMMANDS.items():  # the table lists every command
        assert f"{name}  " in helped.stdout and summary[:30] in helped.stdout.replace("\n", " ")
    # a command's help is still typer's, with its options
    sub = subprocess.run(
        [sys.executable, "-m", "cli.main", "compare", "--help"], capture_output=True, text=True
    )
    assert sub.returncode == 0 and "--fail-on" in sub.stdout and "--only-changed" in sub.stdout
    unknown = subprocess.run([sys.executable, "-m", "cli.main", "nope"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "No such command 'nope'" in unknown.stderr
    version = subprocess.run([sys.executable, "-m", "cli.main", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("bhubctl 0.")
