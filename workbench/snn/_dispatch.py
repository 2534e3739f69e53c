"""Dispatch by array type: NumPy arrays run on the CPU core, CuPy arrays on the CUDA core.

An op decorated with :func:`gpu_dispatch` checks its array arguments: all NumPy -> the CPU
implementation (the decorated function itself); all CuPy -> the function of the same
name in :mod:`workbench.cuda`; a mix -> a TypeError naming both devices.  Without CuPy
the check is a couple of ``isinstance`` tests, so the CPU path pays nothing measurable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import import_module
from typing import Any

import numpy as np

__all__ = ["gpu_dispatch", "array_device"]

try:  # optional
    import cupy as _cupy

    _CUPY_ARRAY: tuple[type, ...] = (_cupy.ndarray,)
except Exception:  # pragma: no cover - depends on the machine
    _CUPY_ARRAY = ()


def array_device(x: Any) -> str | None:
    """``"cpu"`` for a NumPy array, ``"cuda"`` for a CuPy array, else None."""
    if isinstance(x, np.ndarray):
        return "cpu"
    if _CUPY_ARRAY and isinstance(x, _CUPY_ARRAY):
        return "cuda"
    return None


def _devices(args, kwargs) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for i, value in enumerate(args):
        dev = array_device(value) or array_device(getattr(value, "weight", None))
        if dev:
            found.setdefault(dev, []).append(f"argument {i}")
    for key, value in kwargs.items():
        dev = array_device(value) or array_device(getattr(value, "weight", None))
        if dev:
            found.setdefault(dev, []).append(key)
    return found


def gpu_dispatch(name: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator: route calls with CuPy arrays to ``workbench.cuda.<name>``."""

    def decorate(cpu_fn: Callable) -> Callable:
        gpu_name = name or cpu_fn.__name__
        if not _CUPY_ARRAY:
            return cpu_fn  # no CuPy: nothing to dispatch, no overhead

        @functools.wraps(cpu_fn)
        def wrapper(*args, **kwargs):
            devices = _devices(args, kwargs)
            if "cuda" not in devices:
                return cpu_fn(*args, **kwargs)
            if "cpu" in devices:
                raise TypeError(
                    f"{cpu_fn.__name__}: arrays on two devices: cpu (NumPy: {', '.join(devices['cpu'])}) and "
                    f"cuda (CuPy: {', '.join(devices['cuda'])}); move them to one device first"
                )
            gpu_fn = getattr(import_module("workbench.cuda"), gpu_name, None)
            if gpu_fn is None:
                raise NotImplementedError(f"{cpu_fn.__name__} has no GPU implementation yet")
            return gpu_fn(*args, **kwargs)

        return wrapper

    return decorate
