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


def test_the_run_path_loads_neither_typer_nor_pydantic() -> None:
    # a first pydantic model costs ~110 ms and typer parses through pydantic adapters: `bhubctl run`
    # (its arguments, bhub.yaml, every parser, the payloads) works on argparse and msgspec alone
    code = (
        "import pkgutil, importlib, cli.parsers, cli.runcmd, cli.settings\n"
        "cli.runcmd.parse_args(['t', '--baseline', 'main', '--fail-on', 'regression'])\n"
        "cli.settings.CliSettings()\n"
        "for m in pkgutil.iter_modules(cli.parsers.__path__): importlib.import_module('cli.parsers.' + m.name)"
    )
    loaded = _loaded(code)
    assert {"cli.benchrun", "cli.config", "cli.delivery", "cli.parsers.go"} <= loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("typer", "pydantic", "pydantic_core", "click"))
    assert heavy == [] and "central.schemas" not in loaded, heavy
    # and a run imports the parser of its own framework only (`command` needs none of them),
    # and no rich (its results table and notes are cli.table's)
    run = _loaded("import cli.runcmd")
    assert {m for m in run if m.startswith("cli.parsers.")} == {
        "cli.parsers.command",
        "cli.parsers.common",
        "cli.parsers.stats",
    }
    assert not {m for m in run if m.split(".")[0] == "rich"}


def test_the_fast_run_parser_takes_the_typer_commands_options() -> None:
    # `bhubctl run --help` and completion are typer's; a run is parsed by cli.runcmd.parse_args
    from cli.app import load
    from cli.runcmd import parse_args, parser

    command = load("run")
    typer_options = {
        param.name: (sorted(param.opts + param.secondary_opts), param.default)
        for param in command.params
        if param.name not in ("install_completion", "show_completion")  # typer's own: not a run's
    }
    parsed = parse_args(["t"])
    assert set(parsed) == set(typer_options)
    for name, (_, default) in typer_options.items():
        if name != "target":
            assert parsed[name] == default, name
    parser_options = {action.dest: sorted(action.option_strings) for action in parser()._actions}
    assert {k: v for k, v in parser_options.items() if k != "target"} == {
        k: opts for k, (opts, _) in typer_options.items() if k != "target"
    }


def test_a_bad_run_command_line_is_one_line_and_exit_2(tmp_path: object) -> None:
    for args, said in (
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--rerun-suspects", "30"], "30 is not in the range 0<=x<=20"),
        (["--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
        ([], "the following arguments are required: target"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "cli.main", "run", *(["t"] if args else []), *args],
            capture_output=True, text=True,
        )  # fmt: skip
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert said in proc.stderr and "bhubctl run --help" in proc.stderr
    helped = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "--help"], capture_output=True, text=True
    )
    assert helped.returncode == 0 and "--rerun-suspects" in helped.stdout  # typer's help
