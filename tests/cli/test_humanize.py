"""Readable numbers: a sensible unit, 3-4 significant digits, never an exponent in range."""

import pytest

from cli.humanize import digits, quantity, size


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (4012.0, "ns/op", "4.01 µs"),
        (1052.0, "ns", "1.05 µs"),
        (0.5, "ns/op", "0.5 ns"),
        (999.96, "ms", "1 s"),
        (999.4, "ms", "999.4 ms"),
        (1.25, "s", "1.25 s"),
        (7200.0, "s", "2 h"),
        (5894140.0, "B", "5.62 MiB"),
        (5894140.0, "B/op", "5.62 MiB"),
        (64.0, "B/op", "64 B"),
        (1060.0, "MB/s", "1.06 GB/s"),
        (12345.0, "items/s", "12.3 k items/s"),
        (575.0, "allocs/op", "575 allocs"),
        (5894140.0, "count", "5.89 M count"),
        (0.0, "ns/op", "0 s"),
        (0.0, "B/op", "0 B"),
        (-0.0042, "s", "-4.2 ms"),
        (-123.45, "ns", "-123.5 ns"),
    ],
)
def test_quantities(value: float, unit: str, shown: str) -> None:
    assert quantity(value, unit) == shown


def test_digits_and_sizes() -> None:
    assert [digits(x) for x in (1.0, 1.234, 12.34, 123.44, 999.0, 0.0123)] == [
        "1",
        "1.23",
        "12.3",
        "123.4",
        "999",
        "0.0123",
    ]
    assert size(96 * 2**20) == "96 MiB"
