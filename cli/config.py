"""bhub.yaml v1: the targets a repository can run, validated with pydantic.

Errors name the file, the line and the key, e.g. ``bhub.yaml:7: targets.strings.repeat: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cli.errors import ConfigError

CONFIG_NAME = "bhub.yaml"
Framework = Literal[
    "command", "auto", "go", "go-json", "pytest-benchmark", "google-benchmark", "hyperfine",
    "criterion", "pyperf", "json",
]  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Target(BaseModel):
    """One runnable benchmark."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1)
    framework: Framework = "command"
    output: str | None = Field(
        default=None,
        min_length=1,
        description="file or glob (relative to cwd, ** allowed) the tool writes; default: its output",
    )
    cwd: str = "."
    env: dict[str, str] = Field(default_factory=dict)
    repeat: int = Field(default=1, ge=1, le=10_000)
    warmup: int = Field(default=0, ge=0, le=1_000)
    timeout: float = Field(default=3600, gt=0)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _output_needs_a_parser(self) -> Target:
        if self.output is not None and self.framework == "command":
            raise ValueError("output: is read by a parser; set 'framework:' to the tool that writes it")
        return self

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name):
                raise ValueError(f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]*")
        return labels


class BenchConfig(BaseModel):
    """The whole bhub.yaml file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    project: str | None = Field(
        default=None, description="'org/name' or 'name'; default: from the git remote"
    )
    targets: dict[str, Target] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _target_names(cls, targets: dict[str, Target]) -> dict[str, Target]:
        for name in targets:
            if not _NAME.match(name):
                raise ValueError(f"target name {name!r} must match {_NAME.pattern}")
        return targets

    @field_validator("project")
    @classmethod
    def _project_form(cls, project: str | None) -> str | None:
        if project is not None and not re.fullmatch(r"[^/\s]+(/[^/\s]+)+|[^/\s]+", project):
            raise ValueError("project must be 'org/name' or 'name' without spaces")
        return project

    def target(self, name: str, path: Path) -> Target:
        """The target called ``name``, or a ConfigError listing the ones that exist."""
        try:
            return self.targets[name]
        except KeyError:
            known = ", ".join(sorted(self.targets))
            raise ConfigError(f"{path}: no target {name!r}; targets defined: {known}") from None


def _key_lines(node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            out[sub] = key.start_mark.line + 1
            _key_lines(value, sub, out)
            out[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _key_lines(item, (*path, index), out)


def _line_for(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def parse_config(text: str, path: Path) -> BenchConfig:
    """Validate bhub.yaml text; the error names file, line, key and what is expected."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{path}:1: expected a mapping with a 'targets' key; run 'bhubctl init'")
    lines: dict[tuple[str | int, ...], int] = {}
    _key_lines(node, (), lines)
    try:
        return BenchConfig.model_validate(data)
    except ValidationError as exc:
        # A misspelt key also makes the real one "missing": report the misspelling first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_for(loc, lines)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            model = Target if len(loc) == 3 and loc[0] == "targets" else BenchConfig
            message = f"unknown key; expected one of: {', '.join(model.model_fields)}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}:{line}: {key}: {message}{more}") from None


def load_config(path: Path) -> BenchConfig:
    """Read and validate a bhub.yaml file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; create one with 'bhubctl init'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    return parse_config(text, path)


EXAMPLE = """\
# bhub.yaml: the benchmarks BenchHub runs for this repository (format version 1).
version: 1
# project: strings            # default: the git remote's name; 'org/name' also checks the org
#                              # (the run is stored in the org of your token, BENCHHUB_TOKEN)
targets:
  # bhubctl run strings
  strings:
    command: go test -run '^$' -bench . -benchmem ./...
    framework: go              # command (time the whole command) | auto | go | go-json |
                               # pytest-benchmark | google-benchmark | hyperfine | criterion |
                               # pyperf | json (BenchHub's own format)
    # output: bench.json       # read results from this file (glob) instead of the output
    cwd: .                     # relative to this file
    env: {}                    # extra environment variables
    repeat: 1                  # 'command' framework: how many timed runs
    timeout: 600               # seconds; the run fails and the command is stopped after it
    labels: {}                 # extra labels stored with the run
  # A whole command, timed 5 times after one warm-up run.
  build:
    command: make build
    framework: command
    repeat: 5
    warmup: 1
"""
