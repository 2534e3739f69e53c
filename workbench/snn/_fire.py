"""Firing: thresholding, quantisation, spike generation and first-spike extraction.

Potentials are dense per-step membrane potentials ``(B, T, C, H, W)`` (FC: ``(B, T, N)``).
The compiled loops live in :mod:`workbench._kernels.fire`; this module validates and
dispatches.
"""

from __future__ import annotations

import numpy as np

from .._threads import kernel_threads as _threads
from .._validation import TIME_DTYPE, WAVE_DTYPE
from .._kernels import fire as _k
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["threshold", "quantize", "fire", "first_spike"]


def _raise_non_finite(bad: np.ndarray, name: str = "potentials") -> None:
    """Raise as ``check_array(finite=True)`` would, from a fused kernel's per-sample flags."""
    if bad.any():
        raise ValueError(f"{name} contains NaN or infinite values")


def _first_spike_pair(x: np.ndarray, th: float, name: str = "potentials") -> tuple[np.ndarray, np.ndarray]:
    """First-spike pair of already shape/dtype-checked potentials ``x`` (B, T, ...).

    Finiteness is checked inside the kernel's single pass (raises ValueError naming
    ``name``), so callers must not run ``check_array(finite=True)`` on ``x`` again.
    """
    flat = _flat(x)
    B, _, N = flat.shape
    tmap = np.empty((B, N), dtype=TIME_DTYPE)
    spike = np.empty((B, N), dtype=x.dtype)
    bad = np.zeros(B, dtype=np.uint8)
    _k.first_spike_checked(flat, th, tmap, spike, bad, _threads(flat.size, B))
    _raise_non_finite(bad, name)
    shape = (x.shape[0], *x.shape[2:])
    return tmap.reshape(shape), spike.reshape(shape)


def _flat(x: np.ndarray) -> np.ndarray:
    """View ``(B, T, ...)`` as ``(B, T, N)`` (C-contiguous input, so no copy)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


@gpu_dispatch()
def threshold(potentials: np.ndarray, threshold: float, value: float = 0.0) -> np.ndarray:
    """Replace every entry ``<= threshold`` by ``value``.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, any shape
        Values to threshold.
    threshold : float
        Entries less than *or equal to* this are replaced (Spyker's rule).
    value : float
        Replacement value.

    Returns
    -------
    ndarray, same shape and dtype as ``potentials``
        A new array.

    Notes
    -----
    Spyker 0.1.0 replaces ``input <= threshold`` (its docstring says "below"; its code and
    behaviour use ``<=``); we match the behaviour.  Spyker works in place by default; this
    function always returns a new array.  The comparison is done in the array's precision.
    """
    x, th, val = _v.validate_threshold(potentials, threshold, value)
    th, val = x.dtype.type(th), x.dtype.type(val)
    return np.where(x <= th, val, x)


@gpu_dispatch()
def quantize(x: np.ndarray, lower: float, middle: float, upper: float) -> np.ndarray:
    """Two-level quantisation: ``lower`` where ``x < middle``, else ``upper``.

    Parameters
    ----------
    x : ndarray of float32 or float64, any shape
    lower, middle, upper : float

    Returns
    -------
    ndarray, same shape and dtype as ``x``
        A new array (Spyker quantises in place by default).
    """
    x, lo, mid, up = _v.validate_quantize(x, lower, middle, upper)
    lo, mid, up = x.dtype.type(lo), x.dtype.type(mid), x.dtype.type(up)
    return np.where(x < mid, lo, up)


@gpu_dispatch()
def fire(potentials: np.ndarray, threshold: float = 0.0, method: str = "rank") -> np.ndarray:
    """Turn per-step potentials into a spike-wave.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, shape (B, T, C, H, W) or (B, T, N)
        Per-step membrane potentials.
    threshold : float
        Firing threshold.
    method : {"rank", "rate"}
        ``"rank"``: a neuron fires at the first step where ``potential > threshold`` and
        the wave is cumulative (1 from that step on).
        ``"rate"``: Spyker's rate firing.  A neuron spikes at step ``t`` when its potential
        exceeds the potential it had at its previous spike (0 before the first spike) by
        more than ``threshold``; at most one spike per step.  The wave holds the cumulative
        spike *count* (0, 1, 2, ...), so it is non-decreasing in time like a rank wave.

    Returns
    -------
    wave : ndarray of uint8, same shape as ``potentials``

    Notes
    -----
    Rank: Spyker 0.1.0 writes ``potential > threshold`` at each step independently.  For
    potentials that never decrease in time (non-negative weights on a cumulative input
    wave) that is the same as our output.  With signed weights potentials can fall back
    below the threshold; Spyker's output then has 1 -> 0 transitions, ours stays 1 (the
    wave stays cumulative, so :func:`first_spike` / ``gather`` are consistent with it).

    Rate: same rule as Spyker 0.1.0 (``fire(..., code="rate")``), including the detail that
    the reference level after a spike is the potential itself (not ``level + threshold``),
    so it is not reset-by-subtraction.  ``T`` must be at most 255 so counts fit in uint8.
    """
    # rank: the kernel checks finiteness in its own pass (one read of the potentials)
    x, th, method = _v.validate_fire(potentials, threshold, method, finite=method != "rank")
    x = np.ascontiguousarray(x)
    flat = _flat(x)
    out = np.empty(flat.shape, dtype=WAVE_DTYPE)
    if method == "rank":
        bad = np.zeros(flat.shape[0], dtype=np.uint8)
        _k.rank_fire_checked(flat, th, out, bad, _threads(flat.size, flat.shape[0]))
        _raise_non_finite(bad)
    else:
        level = np.zeros((flat.shape[0], flat.shape[2]), dtype=x.dtype)
        _k.rate_fire(flat, th, level, out, _threads(flat.size, flat.shape[0]))
    return out.reshape(x.shape)


@gpu_dispatch()
def first_spike(potentials: np.ndarray, threshold: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """First-spike time map and the potential at the first spike.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, shape (B, T, C, H, W) or (B, T, N)
    threshold : float
        A neuron fires at the first step with ``potential > threshold``.

    Returns
    -------
    tmap : ndarray of int32, shape (B, C, H, W) or (B, N)
        First step with ``potential > threshold``; ``T`` where it never happens.
        Equals ``spyker.gather(potentials, threshold)``.
    spike_potential : ndarray, dtype of ``potentials``, same shape as ``tmap``
        Potential at the first-spike step; 0 where the neuron never fired.
    """
    # finiteness is checked inside the first-spike kernel's pass over the potentials
    x, th = _v.validate_first_spike(potentials, threshold, finite=False)
    return _first_spike_pair(np.ascontiguousarray(x), th)


def raise_bad_pair(stats: np.ndarray, t: np.ndarray, T: int) -> None:
    """Raise for what a fused kernel gathered per sample: stats (B, >=3) rows (min t, max t, non-finite, ...)."""
    if stats[:, 2].any():
        raise ValueError("spike_potential contains NaN or infinite values")
    if stats[:, 0].min() < 0:
        raise ValueError("tmap must be non-negative")
    if stats[:, 1].max() > T:
        raise ValueError(f"tmap values must be <= T={T}, got {int(t.max())}")
