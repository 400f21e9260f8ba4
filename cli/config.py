"""bhub.yaml v1: the targets a repository can run, validated with pydantic.

Errors name the file, the line and the key, e.g. ``bhub.yaml:7: targets.strings.repeat: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from central.schemas import MAX_THRESHOLDS, Threshold
from cli.errors import ConfigError

CONFIG_NAME = "bhub.yaml"
# Bounds on what a bhub.yaml may make bhubctl do before it is even validated: its size, how
# deep it nests, and how many values it holds once its aliases are expanded (a 523-byte
# "billion laughs" file expands to 10^9 values).
MAX_CONFIG_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
Framework = Literal[
    "command", "auto", "go", "go-json", "pytest-benchmark", "google-benchmark", "hyperfine",
    "criterion", "pyperf", "json", "catch2", "rust-libtest", "benchmark-ips", "benchmarkjs", "mitata", "asv",
    "jmh", "benchmarkdotnet", "vitest",
]  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Ready(BaseModel):
    """When a background stage is ready: a TCP port accepts, a command exits 0, or a line of its
    output matches ``log`` (a regular expression); at most ``timeout`` seconds."""

    model_config = ConfigDict(extra="forbid")

    tcp: int | None = Field(default=None, ge=1, le=65535)
    host: str = Field(default="127.0.0.1", min_length=1, description="where the 'tcp' port listens")
    command: str | None = Field(default=None, min_length=1)
    log: str | None = Field(default=None, min_length=1)
    timeout: float = Field(default=30, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_check(self) -> Ready:
        given = [k for k in ("tcp", "command", "log") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("ready: give exactly one of tcp (a port), command or log (a regular expression)")
        if self.log is not None:
            try:
                re.compile(self.log)
            except re.error as exc:
                raise ValueError(f"ready.log is not a regular expression: {exc}") from None
        return self

    def describe(self) -> str:
        if self.tcp is not None:
            return f"port {self.host}:{self.tcp} accepting"
        if self.command is not None:
            return f"{self.command!r} exiting 0"
        return f"a line of its output matching {self.log!r}"


class Stage(BaseModel):
    """A background process the benchmark needs (a database server...): started first, ready
    before the next stage and the command, torn down after them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    command: str = Field(min_length=1)
    cwd: str = "."
    env: dict[str, str] = Field(default_factory=dict)
    ready: Ready


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
    measure: Literal["time", "instructions"] = Field(
        default="time",
        description="'command' framework: time the command, or count its instructions under valgrind",
    )
    repeat: int = Field(default=1, ge=1, le=10_000)
    warmup: int = Field(default=0, ge=0, le=1_000)
    timeout: float = Field(default=3600, gt=0, le=MAX_TIMEOUT_SECONDS)
    labels: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, Threshold] = Field(
        default_factory=dict, max_length=MAX_THRESHOLDS,
        description="when compare calls a change real, by measure ('*': every other measure)",
    )  # fmt: skip
    image: str | None = Field(
        default=None,
        min_length=1,
        description="run the command in a container of this image (docker runtime)",
    )
    cpuset: str | None = Field(default=None, pattern=r"^[0-9,-]+$", description="container: CPUs, e.g. '2-3'")
    memory: str | None = Field(
        default=None, pattern=r"^[0-9]+[bkmg]?$", description="container: memory, e.g. '2g'"
    )
    pids: int | None = Field(default=None, ge=1, le=1_000_000, description="container: most processes")
    stages: list[Stage] = Field(
        default_factory=list, max_length=10,
        description="background processes started (each ready) before the command, torn down after",
    )  # fmt: skip

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, stages: list[Stage]) -> list[Stage]:
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must differ: {names}")
        return stages

    @model_validator(mode="after")
    def _output_needs_a_parser(self) -> Target:
        if self.output is not None and self.framework == "command":
            raise ValueError("output: is read by a parser; set 'framework:' to the tool that writes it")
        if self.image is None and any(v is not None for v in (self.cpuset, self.memory, self.pids)):
            raise ValueError("cpuset, memory and pids limit a container: set 'image:' too")
        if self.image is not None and self.measure == "instructions":
            raise ValueError("measure: instructions runs valgrind on this machine: not with 'image:'")
        if self.measure == "instructions" and self.framework != "command":
            raise ValueError("measure: instructions counts a whole command: use it with 'framework: command'")
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


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting, recursive aliases and aliases that expand too far.

    PyYAML composes an alias as the anchored node itself, so a document stays small while the
    data it stands for (what pydantic then walks) grows exponentially; each node's expanded size
    is counted as it is composed, and the document is refused once one passes MAX_NODES.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it holds, aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            anchored = self.anchors.get(event.anchor)
            if anchored is not None and id(anchored) not in self._sizes:
                raise yaml.composer.ComposerError(
                    None, None, f"alias *{event.anchor} refers to a value that contains it", event.start_mark
                )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"nested deeper than {MAX_DEPTH} levels",
                self.peek_event().start_mark,  # type: ignore[no-untyped-call]
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None and id(node) not in self._sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            size = 1 + sum(self._sizes[id(child)] for child in children)
            if size > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"holds over {MAX_NODES} values once its aliases are expanded",
                    node.start_mark,
                )
            self._sizes[id(node)] = size
        return node


def parse_config(text: str, path: Path) -> BenchConfig:
    """Validate bhub.yaml text; the error names file, line, key and what is expected."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES >> 20} MiB; a bhub.yaml is a few targets")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
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
            model: type[BaseModel] = BenchConfig
            if len(loc) == 3 and loc[0] == "targets":
                model = Target
            elif len(loc) == 5 and loc[2] == "thresholds":
                model = Threshold
            message = f"unknown key; expected one of: {', '.join(model.model_fields)}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}:{line}: {key}: {message}{more}") from None


def load_config(path: Path) -> BenchConfig:
    """Read and validate a bhub.yaml file."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)  # never more: a huge file is refused unread
        text = raw.decode("utf-8")
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
                               # pyperf | catch2 | rust-libtest | benchmark-ips | benchmarkjs |
                               # mitata | vitest | asv | jmh | benchmarkdotnet |
                               # json (BenchHub's own format)
    # output: bench.json       # read results from this file (glob) instead of the output
    cwd: .                     # relative to this file
    env: {}                    # extra environment variables
    repeat: 1                  # 'command' framework: how many timed runs
    # measure: instructions    # 'command': count instructions under valgrind instead of timing
    timeout: 600               # seconds; the run fails and the command is stopped after it
    labels: {}                 # extra labels stored with the run
    thresholds:                # when 'bhubctl compare' and the CI gate call a change real
      "*": {test: mwu, alpha: 0.05, min_effect: 0.02}   # every measure (these are the defaults)
      # alloc_bytes: {test: percentage, limit: 0.10}    # one measure: its own test
      # tests: mwu | t_test (samples) | z_score (one value per run: the base's last
      # 'window' runs) | percentage (limit: fraction) | iqr (limit: IQR multiplier)
  # A whole command, timed 5 times after one warm-up run.
  build:
    command: make build
    framework: command
    repeat: 5
    warmup: 1
"""
