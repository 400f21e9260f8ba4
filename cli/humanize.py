"""Numbers as a person reads them: a sensible unit and 3-4 significant digits.

``4.01 µs``, ``5.62 MiB``, ``1.06 GB/s``, ``12.3 k allocs``. A value is first put in its base
unit (the same conversion as the series: exporter.units), then scaled. Hand-written, as
rich and humanize cover sizes but not times or per-second rates in one consistent style.
"""

from __future__ import annotations

import math

from exporter.units import to_base_unit

_TIME = (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3600.0))
_BINARY = (("B", 1.0), ("KiB", 1024.0), ("MiB", 1024.0**2), ("GiB", 1024.0**3), ("TiB", 1024.0**4))
_DECIMAL = (("", 1.0), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12))


def digits(value: float) -> str:
    """3 significant digits, 4 when the integer part has 3 (``123.4``), never an exponent."""
    size = abs(value)
    if size >= 100:
        return f"{value:.1f}".rstrip("0").rstrip(".") if size < 1000 else f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    if size >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _scaled(value: float, steps: tuple[tuple[str, float], ...]) -> tuple[float, str]:
    chosen = steps[0]
    for step in steps:
        if abs(value) >= step[1] * 0.9995:  # 999.96 ms reads as 1 s, not 1000 ms
            chosen = step
    return value / chosen[1], chosen[0]


def quantity(value: float, unit: str) -> str:
    """``value`` in the tool's ``unit`` as a readable quantity."""
    if not math.isfinite(value):
        return str(value)
    base, kind = to_base_unit(value, unit)
    if base == 0:
        return f"0 {_zero_unit(kind, unit)}"
    if kind == "seconds":
        number, name = _scaled(base, _TIME)
    elif kind == "bytes":
        number, name = _scaled(base, _BINARY)
    elif kind == "bytes_per_second":
        number, prefix = _scaled(base, _DECIMAL)
        name = f"{prefix}B/s"
    elif kind.endswith("_per_second"):
        number, prefix = _scaled(base, _DECIMAL)
        name = f"{prefix} {kind.removesuffix('_per_second')}/s".strip()
    else:
        number, prefix = _scaled(base, _DECIMAL)
        name = f"{prefix} {kind}".strip()
    return f"{digits(number)} {name}"


def _zero_unit(kind: str, unit: str) -> str:
    return {"seconds": "s", "bytes": "B", "bytes_per_second": "B/s"}.get(kind, kind or unit)


def size(count: int) -> str:
    """Bytes, e.g. a peak RSS."""
    return quantity(float(count), "B")
