"""bhubctl's run-path payloads (cli.wire, msgspec) against central's own schemas (pydantic).

Two definitions of one payload can drift; these tests hold them together: the same fields and
defaults, and on generated values, what bhubctl accepts central accepts (and reads back the
same), and what central refuses bhubctl refuses before sending it.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from central import schemas
from cli import wire
from exporter.schemas import WatchRequest

PAIRS: list[tuple[type[msgspec.Struct], type[BaseModel]]] = [
    (wire.Result, schemas.ResultIn),
    (wire.Threshold, schemas.Threshold),
    (wire.Resources, schemas.RunResources),
    (wire.Machine, schemas.MachineState),
    (wire.RunCreate, schemas.RunCreate),
    (wire.RunTransition, schemas.RunTransition),
    (wire.Watch, WatchRequest),
]


@pytest.mark.parametrize(("struct", "model"), PAIRS, ids=[s.__name__ for s, _ in PAIRS])
def test_same_fields_and_defaults(struct: type[msgspec.Struct], model: type[BaseModel]) -> None:
    fields = {f.name: f for f in msgspec.structs.fields(struct)}
    assert set(fields) == set(model.model_fields)
    for name, field in model.model_fields.items():
        ours = fields[name]
        assert field.is_required() == (ours.required), name
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            mine = ours.default_factory() if ours.default_factory is not msgspec.NODEFAULT else ours.default
            assert mine == default, name


def test_the_run_is_a_part_of_run_public() -> None:
    assert set(wire.Run.__struct_fields__) <= set(schemas.RunPublic.model_fields)


def _accepts_ours(struct: type[msgspec.Struct], data: dict[str, Any]) -> msgspec.Struct | None:
    try:
        return msgspec.convert(data, struct)
    except msgspec.ValidationError:
        return None


def _accepts_central(model: type[BaseModel], data: dict[str, Any]) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _same(struct: type[msgspec.Struct], model: type[BaseModel], data: dict[str, Any]) -> None:
    ours, theirs = _accepts_ours(struct, data), _accepts_central(model, data)
    assert (ours is None) == (theirs is None), (data, ours, theirs)
    if ours is not None:  # what bhubctl sends is what central reads
        sent = model.model_validate_json(msgspec.json.encode(ours))
        assert sent == theirs


def _text(bound: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=3), st.integers(bound - 2, bound + 2).map(lambda n: "x" * max(n, 0)))


NUMBER = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70))
COUNT = st.one_of(st.none(), st.integers(-3, 3), st.integers(2**63 - 3, 2**63 + 3))


@settings(max_examples=400, deadline=None)
@given(
    st.fixed_dictionaries(
        {"benchmark": _text(1000), "measure": _text(100), "unit": _text(50)},
        optional={
            "value": NUMBER,
            "error": st.one_of(st.none(), _text(10_000)),
            "iterations": COUNT,
            "mean": NUMBER,
            "median": NUMBER,
            "stddev": NUMBER,
            "min": NUMBER,
            "max": NUMBER,
            "sample_count": COUNT,
            "samples": st.one_of(
                st.none(), st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4)
            ),
            "labels": st.dictionaries(
                st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers()), max_size=2
            ),
            "direction": st.one_of(st.none(), st.sampled_from(["lower", "higher", "sideways"])),
        },
    )
)
def test_results_bhubctl_accepts_are_the_ones_central_accepts(data: dict[str, Any]) -> None:
    _same(wire.Result, schemas.ResultIn, data)


def test_a_result_with_too_many_samples_is_refused_by_both() -> None:
    data = {"benchmark": "b", "measure": "time", "unit": "s", "value": 1.0, "samples": [1.0] * 100_001}
    _same(wire.Result, schemas.ResultIn, data)
    assert _accepts_ours(wire.Result, data) is None


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "test": st.sampled_from(["mwu", "t_test", "z_score", "percentage", "iqr", "magic"]),
            "alpha": st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, math.nan])),
            "limit": st.one_of(st.none(), st.floats(-1, 1001), st.sampled_from([0.0, 1000.0])),
            "min_samples": st.one_of(st.none(), st.integers(-1, 100_002)),
            "min_effect": st.one_of(st.floats(-1, 1001), st.sampled_from([0.0, 1000.0, math.inf])),
            "window": st.integers(0, 102),
        },
    )
)
def test_thresholds_bhubctl_accepts_are_the_ones_central_accepts(data: dict[str, Any]) -> None:
    _same(wire.Threshold, schemas.Threshold, data)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "cpu_model": st.one_of(st.none(), _text(200)),
            "cpus": st.one_of(st.none(), st.integers(-1, 3)),
            "cpu_set": st.one_of(st.none(), st.sampled_from(["0-3", "1,3", "", "a", "0-1" * 101])),
            "governor": st.one_of(st.none(), _text(100)),
            "boost": st.one_of(st.none(), st.booleans()),
            "aslr": st.one_of(st.none(), st.integers(-1, 3)),
            "kernel": st.one_of(st.none(), _text(200)),
            "load_start": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
        },
    )
)
def test_machines_bhubctl_accepts_are_the_ones_central_accepts(data: dict[str, Any]) -> None:
    _same(wire.Machine, schemas.MachineState, data)
