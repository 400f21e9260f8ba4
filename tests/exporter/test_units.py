import pytest

from exporter.units import to_base_unit


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1052.0, "ns/op", (1.052e-6, "seconds")),
        (3.0, "ms", (0.003, "seconds")),
        (2.0, "s", (2.0, "seconds")),
        (128.0, "B/op", (128.0, "bytes")),
        (2.0, "MiB", (2 * 1024**2, "bytes")),
        (12.5, "MB/s", (12.5e6, "bytes_per_second")),
        (3.0, "allocs/op", (3.0, "allocs")),
        (42.5, "widgets/op", (42.5, "widgets")),
        (7.0, "ops", (7.0, "ops")),
        (2744.0, "ns/iter", (2.744e-6, "seconds")),
        (1.4e10, "B/s", (1.4e10, "bytes_per_second")),
        (3.6e9, "elem/s", (3.6e9, "elem_per_second")),
        (3.5e9, "items/s", (3.5e9, "items_per_second")),
        (42.5, "count", (42.5, "count")),
    ],
)
def test_to_base_unit(value: float, unit: str, expected: tuple[float, str]) -> None:
    got = to_base_unit(value, unit)
    assert got[1] == expected[1]
    assert got[0] == pytest.approx(expected[0])
