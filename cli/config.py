"""bhub.yaml v1: the targets a repository can run, validated with msgspec (not pydantic: a
first pydantic model costs ``bhubctl run`` ~110 ms, issue 16).

Errors name the file, the line and the key, e.g. ``bhub.yaml:7: targets.strings.repeat: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec
import yaml
from msgspec import Meta

from central.wire import MAX_THRESHOLDS
from cli.errors import ConfigError
from cli.wire import StatTest, Threshold, describe

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


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """A part of bhub.yaml: unknown keys refused (a misspelt key is an error, never ignored)."""


class _Located(Exception):
    """A check of a whole part failed: where (the keys down to it) and why."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


class Ready(_Strict, kw_only=True):
    """When a background stage is ready: a TCP port accepts, a command exits 0, or a line of its
    output matches ``log`` (a regular expression); at most ``timeout`` seconds."""

    tcp: Annotated[int, Meta(ge=1, le=65535)] | None = None
    host: Annotated[str, Meta(min_length=1)] = "127.0.0.1"  # where the 'tcp' port listens
    command: Annotated[str, Meta(min_length=1)] | None = None
    log: Annotated[str, Meta(min_length=1)] | None = None
    timeout: Annotated[float, Meta(gt=0, le=3600)] = 30

    def __post_init__(self) -> None:
        given = [k for k in ("tcp", "command", "log") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("ready: give exactly one of tcp (a port), command or log (a regular expression)")
        if self.log is not None:
            try:
                re.compile(self.log)
            except re.error as exc:
                raise ValueError(f"ready.log is not a regular expression: {exc}") from None

    def describe(self) -> str:
        if self.tcp is not None:
            return f"port {self.host}:{self.tcp} accepting"
        if self.command is not None:
            return f"{self.command!r} exiting 0"
        return f"a line of its output matching {self.log!r}"


class Stage(_Strict, kw_only=True):
    """A background process the benchmark needs (a database server...): started first, ready
    before the next stage and the command, torn down after them."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    command: Annotated[str, Meta(min_length=1)]
    ready: Ready
    cwd: str = "."
    env: dict[str, str] = {}


class Target(_Strict, kw_only=True):
    """One runnable benchmark."""

    command: Annotated[str, Meta(min_length=1)]
    framework: Framework = "command"
    # file or glob (relative to cwd, ** allowed) the tool writes; default: its output
    output: Annotated[str, Meta(min_length=1)] | None = None
    cwd: str = "."
    env: dict[str, str] = {}
    # 'command' framework: time the command, or count its instructions under valgrind
    measure: Literal["time", "instructions"] = "time"
    repeat: Annotated[int, Meta(ge=1, le=10_000)] = 1
    warmup: Annotated[int, Meta(ge=0, le=1_000)] = 0
    timeout: Annotated[float, Meta(gt=0, le=MAX_TIMEOUT_SECONDS)] = 3600
    labels: dict[str, str] = {}
    # when compare calls a change real, by measure ('*': every other measure)
    thresholds: Annotated[dict[Annotated[str, Meta(min_length=1, max_length=100)], Threshold], Meta(
        max_length=MAX_THRESHOLDS
    )] = {}  # fmt: skip
    image: Annotated[str, Meta(min_length=1)] | None = None  # run in a container of this image
    cpuset: Annotated[str, Meta(pattern=r"^[0-9,-]+$")] | None = None  # container: CPUs, e.g. '2-3'
    memory: Annotated[str, Meta(pattern=r"^[0-9]+[bkmg]?$")] | None = None  # container: memory, '2g'
    pids: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None  # container: most processes
    # background processes started (each ready) before the command, torn down after
    stages: Annotated[list[Stage], Meta(max_length=10)] = []

    def __post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise _Located(("stages",), f"stage names must differ: {names}")
        for name in self.labels:
            if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name):
                raise _Located(("labels",), f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]*")
        if self.output is not None and self.framework == "command":
            raise ValueError("output: is read by a parser; set 'framework:' to the tool that writes it")
        if self.image is None and any(v is not None for v in (self.cpuset, self.memory, self.pids)):
            raise ValueError("cpuset, memory and pids limit a container: set 'image:' too")
        if self.image is not None and self.measure == "instructions":
            raise ValueError("measure: instructions runs valgrind on this machine: not with 'image:'")
        if self.measure == "instructions" and self.framework != "command":
            raise ValueError("measure: instructions counts a whole command: use it with 'framework: command'")

    def replace(self, **changes: Any) -> Target:
        """A copy with ``changes`` (checked again)."""
        return msgspec.structs.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """As plain JSON values: a job's definition, read back by ``target_from``."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data


def target_from(definition: object) -> Target:
    """A target from JSON values (a job's definition); a ValueError says what is wrong."""
    try:
        return _target(definition, strict=True)  # bhubctl wrote it from a checked target
    except _Located as exc:
        where = ".".join(map(str, exc.loc))
        raise ValueError(f"{where}: {exc.message}" if where else exc.message) from None


class BenchConfig(_Strict, kw_only=True):
    """The whole bhub.yaml file."""

    targets: dict[str, Target]
    version: Literal[1] = 1
    project: str | None = None  # 'org/name' or 'name'; default: from the git remote

    def target(self, name: str, path: Path) -> Target:
        """The target called ``name``, or a ConfigError listing the ones that exist."""
        try:
            return self.targets[name]
        except KeyError:
            known = ", ".join(sorted(self.targets))
            raise ConfigError(f"{path}: no target {name!r}; targets defined: {known}") from None


class _Top(_Strict, kw_only=True):
    """bhub.yaml's top level, before its targets are read one by one (to name each in errors)."""

    targets: Annotated[dict[str, Any], Meta(min_length=1)]
    version: Literal[1] = 1
    project: str | None = None


_PARTS = re.compile(r"([^.\[\]]+)|\[(\d+|\.\.\.)\]")


def _loc(path: str) -> tuple[str | int, ...]:
    """msgspec's ``stages[1].ready.tcp`` as keys: ('stages', 1, 'ready', 'tcp')."""
    loc: list[str | int] = []
    for name, index in _PARTS.findall(path):
        loc.append(name if name else (int(index) if index.isdigit() else "[...]"))
    return tuple(loc)


def _named(raw: object, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """msgspec says ``[...]`` for a key of a mapping: the key, found in ``raw`` by checking its
    values again one by one (thresholds by measure, env and labels)."""
    if "[...]" not in loc:
        return loc
    at = loc.index("[...]")
    mapping: Any = raw
    for part in loc[:at]:
        if isinstance(mapping, dict) or (isinstance(mapping, list) and isinstance(part, int)):
            mapping = mapping[part]  # type: ignore[index]
        else:
            return loc
    if not isinstance(mapping, dict):
        return loc
    for key, value in mapping.items():
        if loc[at - 1] == "thresholds":
            try:
                msgspec.convert(value, Threshold)
            except msgspec.ValidationError as exc:
                return (*loc[:at], str(key), *_loc(describe(exc)[0]))
        elif not isinstance(value, str) or not isinstance(key, str):
            return (*loc[:at], str(key))
    return loc


_FIELDS: dict[str, tuple[str, ...]] = {
    "": ("version", "project", "targets"),
    "target": Target.__struct_fields__,
    "thresholds": Threshold.__struct_fields__,
    "stages": Stage.__struct_fields__,
    "ready": Ready.__struct_fields__,
}


def _unknown(
    loc: tuple[str | int, ...], message: str, top: bool = False
) -> tuple[tuple[str | int, ...], str]:
    """msgspec's 'Object contains unknown field `x`' as that key and the keys it could have been;
    any other error as it is."""
    found = re.match(r"Object contains unknown field `(.*)`", message)
    if found is None:
        return loc, message
    if top:
        kind = ""
    elif not loc:
        kind = "target"
    elif isinstance(loc[-1], int):
        kind = "stages"
    elif loc[-1] == "ready":
        kind = "ready"
    else:
        kind = "thresholds"  # the only other mapping of parts: ('thresholds', measure)
    return (*loc, found.group(1)), f"unknown key; expected one of: {', '.join(_FIELDS[kind])}"


_CHOICES: dict[str | int, tuple[object, ...]] = {
    "framework": get_args(Framework),
    "measure": ("time", "instructions"),
    "test": tuple(t.value for t in StatTest),
    "version": (1,),
}


def _explained(loc: tuple[str | int, ...], message: str) -> str:
    """msgspec's message, with what a choice may be (it names only the bad value)."""
    if message.startswith("Invalid enum value") and loc and loc[-1] in _CHOICES:
        return f"{message}; expected one of: {', '.join(map(str, _CHOICES[loc[-1]]))}"
    if loc == ("targets",) and "length >= 1" in message:
        return "no targets: define at least one (see 'bhubctl init')"
    return message


def _target(raw: object, strict: bool = False) -> Target:
    """One target from plain values (``strict``: no text for a number, as YAML may write it);
    _Located names what is wrong, from the target down."""
    try:
        return msgspec.convert(raw, Target, strict=strict)
    except msgspec.ValidationError as exc:
        path, message = describe(exc)
        raise _Located(*_unknown(_named(raw, _loc(path)), message)) from None


def _validated(data: dict[str, Any]) -> BenchConfig:
    """The config, or _Located naming the first thing wrong (top level first, then each target)."""
    try:
        top = msgspec.convert(data, _Top, strict=False)
    except msgspec.ValidationError as exc:
        path, message = describe(exc)
        raise _Located(*_unknown(_loc(path), message, top=True)) from None
    if top.project is not None and not re.fullmatch(r"[^/\s]+(/[^/\s]+)+|[^/\s]+", top.project):
        raise _Located(("project",), "project must be 'org/name' or 'name' without spaces")
    targets: dict[str, Target] = {}
    for name, raw in top.targets.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise _Located(("targets",), f"target name {name!r} must match {_NAME.pattern}")
        try:
            targets[name] = _target(raw)
        except _Located as exc:
            raise _Located(("targets", name, *exc.loc), exc.message) from None
    return BenchConfig(targets=targets, version=top.version, project=top.project)


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
        return _validated(data)
    except _Located as exc:
        key = ".".join(str(p) for p in exc.loc) or "(top level)"
        message = _explained(exc.loc, exc.message)
        raise ConfigError(f"{path}:{_line_for(exc.loc, lines)}: {key}: {message}") from None


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
