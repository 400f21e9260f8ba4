"""Conversion of a tool's unit to the Prometheus base unit exposed in the ``unit`` label."""

from __future__ import annotations

_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0,
            "seconds": 1.0, "min": 60.0, "h": 3600.0}  # fmt: skip
_BYTES = {"B": 1.0, "bytes": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9,
          "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3}  # fmt: skip


def to_base_unit(value: float, unit: str) -> tuple[float, str]:
    """(value, unit) in seconds, bytes or bytes_per_second; other rates as ``X_per_second``.

    A trailing ``/op`` or ``/iter`` (per-operation units of Go and libtest) is dropped: the
    ``measure`` says per what. Other units pass through unchanged.
    """
    bare = unit.removesuffix("/op").removesuffix("/iter")
    if bare in _SECONDS:
        return value * _SECONDS[bare], "seconds"
    if bare in _BYTES:
        return value * _BYTES[bare], "bytes"
    head, sep, tail = bare.partition("/")
    if sep and tail in ("s", "sec"):
        if head in _BYTES:
            return value * _BYTES[head], "bytes_per_second"
        return value, f"{head}_per_second"
    return value, bare
