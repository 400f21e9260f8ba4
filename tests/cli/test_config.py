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
            "bhub.yaml:4: targets.t.repeat: Input should be greater than or equal to 1",
        ),
        (
            "targets:\n  t:\n    command: x\n    framework: gotest\n",
            "bhub.yaml:4: targets.t.framework: Input should be 'command', 'auto', 'go', 'go-json'",
        ),
        (
            "targets:\n  t:\n    comand: x\n",
            "bhub.yaml:3: targets.t.comand: unknown key; expected one of: command, framework, output, cwd",
        ),
        ("targets: {}\n", "bhub.yaml:1: targets: Dictionary should have at least 1 item"),
        (
            "projekt: x\ntargets:\n  t: {command: x}\n",
            "bhub.yaml:1: projekt: unknown key; expected one of: version, project, targets",
        ),
        ("version: 2\ntargets:\n  t: {command: x}\n", "bhub.yaml:1: version: Input should be 1"),
        ("targets:\n  t:\n    command: [unclosed\n", "bhub.yaml:4: invalid YAML"),
        ("- a\n- b\n", "bhub.yaml:1: expected a mapping with a 'targets' key"),
        (
            "project: a b\ntargets:\n  t: {command: x}\n",
            "bhub.yaml:1: project: Value error, project must be",
        ),
        (
            "targets:\n  'bad name':\n    command: x\n",
            "bhub.yaml:1: targets: Value error, target name 'bad name'",
        ),
        (
            "targets:\n  t:\n    command: x\n    labels: {9x: y}\n",
            "bhub.yaml:4: targets.t.labels: Value error, label name '9x'",
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
