"""CuPy runtime: optional import, kernel-source lookup, NVRTC compilation with a cache.

Nothing is compiled at install time.  ``cuda/*.cu`` are compiled on first use through
``cupy.RawModule`` (NVRTC) for the floating type and the number of time steps in use, and
cached per process (CuPy also caches the binaries on disk).  ``NVRTC_OPTIONS`` lists the
options (tests/cuda compiles with the same ones through nvcc).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

try:  # CuPy is the optional `gpu` extra.
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine (ImportError, CUDA driver errors)
    _cupy = None

THREADS_PER_BLOCK = 256
# NVRTC options besides the type and step macros (mirrored by tests/cuda/test_cuda_build.py).
NVRTC_OPTIONS = ("-std=c++17", "--fmad=false")


def cupy_module():
    """The ``cupy`` module, or a RuntimeError saying how to get it."""
    if _cupy is None:
        raise RuntimeError("CuPy is not installed: `pip install 'workbench[gpu]'` adds it (CUDA 13)")
    return _cupy


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver / no device
        return False


def is_cupy_array(x) -> bool:
    """True for a ``cupy.ndarray`` (False whenever CuPy is not installed)."""
    return _cupy is not None and isinstance(x, _cupy.ndarray)


def source_dir() -> Path:
    """Folder holding the ``.cu`` sources (the wheel's copy, else the checkout's ``cuda/``)."""
    packaged = Path(__file__).with_name("kernels")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "cuda"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"CUDA kernel sources not found in {packaged} or {checkout}")


def kernel_source(name: str) -> str:
    """Source of ``cuda/<name>.cu`` with ``common.cuh`` inlined (NVRTC gets one string)."""
    folder = source_dir()
    common = (folder / "common.cuh").read_text().replace("#pragma once", "")
    return (folder / f"{name}.cu").read_text().replace('#include "common.cuh"', common)


def real_name(dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return "float"
    if dtype == np.float64:
        return "double"
    raise TypeError(f"GPU kernels support float32 and float64, got {dtype}")


@functools.lru_cache(maxsize=None)
def _module(name: str, real: str, steps: int):
    cp = cupy_module()
    # --fmad=false: no contraction of a * b + c into an FMA, so products round as in the CPU
    # core (plain C without -ffast-math on x86-64, which has no FMA in its baseline);
    # e.g. the stabilised STDP update then rounds exactly as core_cython/stdp.pyx does.
    options = (*NVRTC_OPTIONS, f"-DWB_REAL={real}", f"-DWB_T={steps}")
    return cp.RawModule(code=kernel_source(name), options=options)


def kernel(family: str, function: str, dtype=np.float32, steps: int = 15):
    """Compiled kernel ``function`` of ``cuda/<family>.cu`` for ``dtype`` and ``steps``."""
    return _module(family, real_name(dtype), int(steps)).get_function(function)


def launch(kern, total: int, args: tuple, *, threads: int = THREADS_PER_BLOCK) -> None:
    """1-D launch covering ``total`` threads."""
    if total <= 0:
        return
    blocks = (int(total) + threads - 1) // threads
    kern((blocks,), (threads,), args)
