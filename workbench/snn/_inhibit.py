"""Pointwise lateral inhibition: at each position only the earliest-firing feature survives.

The compiled loops live in :mod:`workbench._kernels.inhibit`; this module validates and
dispatches.
"""

from __future__ import annotations

import numpy as np

from .._kernels import inhibit as _k
from .._threads import kernel_threads as _threads
from ._fire import _first_spike_pair, raise_bad_pair as _raise_bad_pair
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["inhibit", "inhibit_timemap"]


def _winners(tmap: np.ndarray, spike: np.ndarray, T: int) -> np.ndarray:
    """(B, C, H, W) first-spike pair -> (B, H*W) int32 surviving feature (-1: none)."""
    B, C = tmap.shape[:2]
    win = np.empty((B, tmap[0, 0].size), dtype=np.int32)
    _k.winner_feature(tmap.reshape(B, C, -1), spike.reshape(B, C, -1), T, win, _threads(tmap.size, B))
    return win


@gpu_dispatch()
def inhibit(potentials: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Pointwise inhibition of dense potentials.

    At each position ``(y, x)`` the feature whose first spike (first step with
    ``potential > threshold``) is earliest keeps its potentials at every step; all other
    features are zeroed there.  Ties: larger potential at the first-spike step, then the
    lower feature index.  Positions where no feature fires become all zero.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, shape (B, T, C, H, W)
    threshold : float
        Firing threshold, ``>= 0``: losers are set to 0, which must not count as a spike
        downstream (with a negative threshold it would; then use :func:`inhibit_timemap`).

    Returns
    -------
    ndarray, same shape and dtype as ``potentials``
        A new array.

    Notes
    -----
    Spyker 0.1.0 (``spyker.inhibit``) picks, per position, the arg-max feature at step
    ``T - s`` where ``s`` is the number of steps in which some feature is above threshold.
    For potentials that never decrease in time this is the step of the earliest spike and
    its arg-max (first index on ties) is the feature chosen here, so spiking positions agree
    exactly.  Deliberate differences:

    - at positions where no feature fires, Spyker keeps the sub-threshold potentials of
      the arg-max feature at the last step; we zero them (nothing there can fire anyway);
    - with signed weights (non-monotone potentials) Spyker's step count no longer points
      at the earliest spike; we always use the true first spike.
    """
    # finiteness is checked inside the first-spike kernel's pass over the potentials
    x, th = _v.validate_inhibit(potentials, threshold, finite=False)
    x = np.ascontiguousarray(x)
    B, T, C = x.shape[:3]
    tmap, spike = _first_spike_pair(x, th)
    win = _winners(tmap, spike, T)
    out = np.zeros_like(x)  # the kernel copies only the surviving time courses
    _k.apply_dense(x.reshape(B, T, C, -1), win, out.reshape(B, T, C, -1), _threads(x.size, B))
    return out


@gpu_dispatch()
def inhibit_timemap(
    tmap: np.ndarray, spike_potential: np.ndarray, T: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise inhibition on a first-spike pair (the event-driven path).

    Parameters
    ----------
    tmap : ndarray of int32, shape (B, C, H, W)
        First-spike steps; a value ``>= T`` means silent.
    spike_potential : ndarray of float32 or float64, shape (B, C, H, W)
        Potential at the first spike (used to break time ties).
    T : int
        Number of steps, the "never fired" value.  Required: a time map alone cannot
        tell "fired at the last step" from "never fired".

    Returns
    -------
    tmap : ndarray of int32, shape (B, C, H, W)
        Losers are set to ``T``.
    spike_potential : ndarray, shape (B, C, H, W)
        Losers are set to 0.

    Notes
    -----
    Same winner as :func:`inhibit`: earliest time, then larger potential, then lower
    feature.  ``spyker.sparse.inhibit`` carries no potentials, so on time ties it keeps the
    feature whose event comes first in its event list; we use the potential, which makes
    the sparse and dense paths agree.
    """
    # finiteness and the time range are checked inside the kernel's single pass (stats)
    t, s, T = _v.validate_spike_pair(tmap, spike_potential, T, check_values=False)
    t, s = np.ascontiguousarray(t), np.ascontiguousarray(s)
    B, C = t.shape[:2]
    P = t[0, 0].size
    out_t = np.empty_like(t)
    out_s = np.empty_like(s)
    scratch_i = np.empty((2, B, P), dtype=np.int32)
    best_v = np.empty((B, P), dtype=s.dtype)
    stats = np.empty((B, 3), dtype=np.int32)
    _k.inhibit_timemap(t.reshape(B, C, P), s.reshape(B, C, P), T, out_t.reshape(B, C, P),
                       out_s.reshape(B, C, P), scratch_i[0], scratch_i[1], best_v, stats,
                       _threads(t.size, B))
    _raise_bad_pair(stats, t, T)
    return out_t, out_s
