from pathlib import Path

import pytest

from cli.config import EXAMPLE, load_config, parse_config
from cli.errors import ConfigError

P = Path("bhub.yaml")


def test_example_written_by_init_is_valid() -> None:
    config = parse_config(EXAMPLE, P)
    assert set(config.targets) == {"strings", "build"}
    assert config.targets["strings"].framework == "go"
    assert config.targets["build"].repeat == 5


def test_defaults() -> None:
    config = parse_config("targets:\n  t:\n    command: echo hi\n", P)
    target = config.targets["t"]
    assert (target.framework, target.repeat, target.cwd, target.timeout) == (
        "command",
        1,
        ".",
        3600,
    )
    assert config.project is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "targets:\n  t:\n    command: x\n    repeat: 0\n",
            "bhub.yaml:4: targets.t.repeat: Expected `int` >= 1",
        ),
        (
            "targets:\n  t:\n    command: x\n    framework: gotest\n",
            "bhub.yaml:4: targets.t.framework: Invalid enum value 'gotest'; expected one of: command, auto, go, go-json,",
        ),
        (
            "targets:\n  t:\n    comand: x\n",
            "bhub.yaml:3: targets.t.comand: unknown key; expected one of: command, framework, output, cwd",
        ),
        ("targets: {}\n", "bhub.yaml:1: targets: no targets: define at least one (see 'bhubctl init')"),
        (
            "targets:\n  t:\n    command: x\n    framework: go\n    measure: instructions\n",
            "bhub.yaml:2: targets.t: measure: instructions counts a whole command: use it with "
            "'framework: command'",
        ),
        (
            "targets:\n  t:\n    command: x\n    measure: cycles\n",
            "bhub.yaml:4: targets.t.measure: Invalid enum value 'cycles'; expected one of: time, instructions",
        ),
        (
            "projekt: x\ntargets:\n  t: {command: x}\n",
            "bhub.yaml:1: projekt: unknown key; expected one of: version, project, targets",
        ),
        (
            "version: 2\ntargets:\n  t: {command: x}\n",
            "bhub.yaml:1: version: Invalid enum value 2; expected one of: 1",
        ),
        ("targets:\n  t:\n    command: [unclosed\n", "bhub.yaml:4: invalid YAML"),
        ("- a\n- b\n", "bhub.yaml:1: expected a mapping with a 'targets' key"),
        (
            "project: a b\ntargets:\n  t: {command: x}\n",
            "bhub.yaml:1: project: project must be",
        ),
        (
            "targets:\n  'bad name':\n    command: x\n",
            "bhub.yaml:1: targets: target name 'bad name'",
        ),
        (
            "targets:\n  t:\n    command: x\n    labels: {9x: y}\n",
            "bhub.yaml:4: targets.t.labels: label name '9x'",
        ),
        (
            "targets:\n  t:\n    command: x\n    thresholds:\n      '*': {test: magic}\n",
            "bhub.yaml:5: targets.t.thresholds.*.test: Invalid enum value 'magic'; expected one of: mwu, t_test, z_score",
        ),
        (
            "targets:\n  t:\n    command: x\n    thresholds:\n      time:\n        alpha: 2\n",
            "bhub.yaml:6: targets.t.thresholds.time.alpha: Expected `float` < 1.0",
        ),
        (
            "targets:\n  t:\n    command: x\n    thresholds:\n      time: {alfa: 0.01}\n",
            "bhub.yaml:5: targets.t.thresholds.time.alfa: unknown key; expected one of: test, alpha, limit",
        ),
        (
            "targets:\n  t:\n    command: x\n    env: {A: [1]}\n",
            "bhub.yaml:4: targets.t.env.A: Expected `str`, got `array`",
        ),
        (
            "targets:\n  t:\n    command: x\n    stages:\n      - {name: db, command: y, ready: {tcp: 0}}\n",
            "bhub.yaml:5: targets.t.stages.0.ready.tcp: Expected `int` >= 1",
        ),
        (
            "targets:\n  t:\n    command: x\n    stages:\n      - {name: db, command: y, ready: {tcp: 5, x: 1}}\n",
            "bhub.yaml:5: targets.t.stages.0.ready.x: unknown key; expected one of: tcp, host, command, log",
        ),
        (
            "targets:\n  t:\n    repeat: 3\n",
            "bhub.yaml:2: targets.t: Object missing required field `command`",
        ),
    ],
)
def test_bad_files_name_line_key_and_expectation(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, P)
    assert str(err.value).startswith(expected), str(err.value)


def test_unknown_target_lists_known(tmp_path: Path) -> None:
    path = tmp_path / "bhub.yaml"
    path.write_text("targets:\n  a: {command: x}\n  b: {command: y}\n")
    config = load_config(path)
    with pytest.raises(ConfigError, match="no target 'c'; targets defined: a, b"):
        config.target("c", path)


def test_missing_file_says_how_to_create(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; create one with 'bhubctl init'"):
        load_config(tmp_path / "bhub.yaml")


LAUGHS = "\n".join(
    [f"{chr(97)}: &{chr(97)} [{', '.join(['lol'] * 9)}]"]
    + [f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]" for i in range(1, 9)]
    + ["targets: {t: {command: 'true'}}", ""]
)
HOSTILE = {
    "billion-laughs": (LAUGHS, "invalid YAML: holds over 100000 values once its aliases are expanded"),
    "recursive-alias": ("targets: &a {t: *a}\n", "invalid YAML: alias *a refers to a value that contains it"),
    "deep-nesting": ("targets: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 64 levels"),
    "huge-file": ("targets: {t: {command: 'true'}}\n" + "# padding\n" * 200_000, "over 1 MiB"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_is_one_line_in_bounded_memory(name: str, tmp_path: Path) -> None:
    # the billion laughs (523 bytes) took bhubctl past 4.5 GB; a recursive alias or deep nesting
    # ended in a RecursionError traceback. Memory: the child's own peak RSS (VmHWM, its address
    # space's high-water mark; ru_maxrss would include this test process's, inherited at fork).
    import subprocess
    import sys

    text, expected = HOSTILE[name]
    path = tmp_path / "bhub.yaml"
    path.write_text(text)
    probe = (
        "import sys; from pathlib import Path; from cli.config import load_config\n"
        "from cli.errors import ConfigError\n"
        "try:\n    load_config(Path(sys.argv[1]))\nexcept ConfigError as exc:\n    print(exc)\n"
        "print(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    message, peak_kib = proc.stdout.splitlines()
    assert message.startswith(f"{path}:") and expected in message, message
    assert int(peak_kib) < 100 * 1024, f"{name}: peak RSS {int(peak_kib) >> 10} MiB"


def test_anchors_within_bounds_still_work() -> None:
    text = "targets:\n  a: &base {command: 'true', env: {X: '1'}}\n  b: *base\n"
    config = parse_config(text, P)
    assert config.targets["b"].env == {"X": "1"}


def test_timeout_is_bounded() -> None:
    with pytest.raises(ConfigError, match=r"targets.t.timeout: Expected `float` <= 604800"):
        parse_config("targets:\n  t: {command: 'true', timeout: 1e10}\n", P)


def test_an_error_text_is_printed_as_is_not_as_markup(tmp_path: Path) -> None:
    # before: rich read '[bold]' in an error text as markup and dropped it from the message
    import subprocess
    import sys

    folder = tmp_path / "[bold]x[red]"
    folder.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "t", "--config", str(folder / "bhub.yaml")],
        capture_output=True, text=True, timeout=60, env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"error: {folder / 'bhub.yaml'}: not found" in proc.stderr, proc.stderr
