"""k-winners-take-all selection for convolutional and fully-connected layers.

Winners are int32 rows ``(batch, feature, time, y, x)`` (FC: ``y = x = 0``), grouped by
batch in ascending order and, within a sample, in selection order.  Dense potentials are
first reduced to a first-spike pair (as :func:`~workbench.snn.first_spike`), then the compiled
selection in :mod:`workbench._kernels.wta` runs on that pair, so the dense and the
event-driven entry points share one implementation.
"""

from __future__ import annotations

import numpy as np

from .._kernels import wta as _k
from .._threads import kernel_threads as _threads
from ._fire import _first_spike_pair, raise_bad_pair
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["conv_wta", "fc_wta", "conv_wta_timemap"]


def _compact(out: np.ndarray, n_out: np.ndarray) -> np.ndarray:
    """(B, count, 5) padded rows + per-sample counts -> (n, 5) rows in batch order."""
    if n_out.size and n_out.min() == out.shape[1]:
        return out.reshape(-1, 5)  # every sample filled its rows: already compact
    keep = np.arange(out.shape[1])[None, :] < n_out[:, None]
    return np.ascontiguousarray(out[keep], dtype=np.int32).reshape(-1, 5)


def _conv_select(tmap: np.ndarray, spike: np.ndarray, T: int, radius: tuple[int, int], count: int):
    """Run the compiled selection; returns (winners, stats) with stats (B, 4) rows
    (min time, max time, non-finite potential flag, spike count) for the caller's checks."""
    B, C, H, W = tmap.shape
    count = min(count, C)  # a feature wins at most once; also bounds the output buffer
    out = np.empty((B, count, 5), dtype=np.int32)
    n_out = np.empty(B, dtype=np.int32)
    stats = np.empty((B, 4), dtype=np.int32)
    live = np.empty((B, C), dtype=np.uint8)
    # radius larger than the map behaves like the map size; clipping keeps int32 maths safe
    ry, rx = min(radius[0], H), min(radius[1], W)
    _k.conv_wta_pair(tmap.reshape(B, C, H * W), spike.reshape(B, C, H * W), T, H, W, ry, rx, count,
                     out, n_out, stats, live, _threads(tmap.size, B))
    if n_out.size and n_out.min() < 0:
        raise MemoryError("conv_wta: could not allocate the candidate list")
    return _compact(out, n_out), stats


@gpu_dispatch()
def conv_wta(potentials: np.ndarray, radius, count: int, threshold: float = 0.0) -> np.ndarray:
    """Convolutional k-winners-take-all on dense potentials.

    Neurons are scored by first-spike step (first ``potential > threshold``; earlier is
    better), ties by the potential at that step (larger is better).  The best neuron wins;
    then its whole feature map and every neuron of any feature within Chebyshev distance
    ``radius`` of its ``(y, x)`` are excluded; repeat up to ``count`` times.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, shape (B, T, C, H, W)
    radius : int or (int, int)
        Exclusion radius ``(ry, rx)``: ``|dy| <= ry`` and ``|dx| <= rx`` are excluded.
    count : int
        Maximum number of winners per sample (fewer when neurons run out).
    threshold : float

    Returns
    -------
    winners : ndarray of int32, shape (n, 5)
        Rows ``(batch, feature, time, y, x)``; ``time`` is the winner's first-spike step.

    Notes
    -----
    Same rule as ``spyker.convwta`` (0.1.0).  Differences: Spyker reports ``t = 0`` for
    every winner, we report the first-spike step; Spyker ranks by the float sum
    ``potential + 2 * max(potentials) * (T - 1 - t)``, whose rounding can merge nearly
    equal potentials (and which breaks down for non-positive maxima), while we compare
    ``(time, potential)`` exactly.  Remaining ties go to the lowest flat index
    ``(feature, y, x)``, which is also what Spyker's first-occurrence arg-max does.
    """
    # finiteness is checked inside the first-spike kernel's pass over the potentials
    x, r, count, th = _v.validate_conv_wta(potentials, radius, count, threshold, finite=False)
    tmap, spike = _first_spike_pair(np.ascontiguousarray(x), th)
    return _conv_select(tmap, spike, x.shape[1], r, count)[0]


@gpu_dispatch()
def conv_wta_timemap(
    tmap: np.ndarray, spike_potential: np.ndarray, radius, count: int, T: int
) -> np.ndarray:
    """Convolutional k-winners-take-all on a first-spike pair (event-driven path).

    Parameters
    ----------
    tmap : ndarray of int32, shape (B, C, H, W)
        First-spike steps; ``T`` means silent (silent neurons never win).
    spike_potential : ndarray of float32 or float64, shape (B, C, H, W)
        Potential at the first spike; breaks time ties (larger wins).
    radius : int or (int, int)
    count : int
    T : int
        Number of steps, the "never fired" value.  Required: a time map alone cannot
        tell "fired at the last step" from "never fired".

    Returns
    -------
    winners : ndarray of int32, shape (n, 5)
        Same selection as :func:`conv_wta` on the potentials the pair came from.

    Notes
    -----
    ``spyker.sparse.convwta`` has no potentials: within a step it takes events in list
    order.  We break time ties by potential and then by lowest ``(feature, y, x)``, which
    makes this function agree with the dense :func:`conv_wta`.
    """
    # finiteness and the time range are checked inside the kernel's single pass (stats)
    t, s, r, count, T = _v.validate_conv_wta_timemap(tmap, spike_potential, radius, count, T, check_values=False)
    t, s = np.ascontiguousarray(t), np.ascontiguousarray(s)
    winners, stats = _conv_select(t, s, T, r, count)
    raise_bad_pair(stats, t, T)
    return winners


@gpu_dispatch()
def fc_wta(potentials: np.ndarray, count: int, threshold: float = 0.0, radius: int = 0) -> np.ndarray:
    """Fully-connected k-winners-take-all.

    Neurons are ranked as in :func:`conv_wta` (earliest first spike, then larger potential,
    then lower index).  After each win the neurons whose index is within ``radius`` of the
    winner's (the winner itself included) are excluded.

    Parameters
    ----------
    potentials : ndarray of float32 or float64, shape (B, T, N)
    count : int
        Maximum number of winners per sample.
    threshold : float
    radius : int
        Exclusion radius along the neuron index (``spyker.fcwta``'s ``radius``); 0 excludes
        only the winner.

    Returns
    -------
    winners : ndarray of int32, shape (n, 5)
        Rows ``(batch, neuron, time, 0, 0)``.

    Notes
    -----
    ``spyker.fcwta`` reports the neuron index in ``x`` and ``t = 0``; we follow the
    contract (neuron in the feature column, real first-spike time).  Ranking differences
    as in :func:`conv_wta`.
    """
    x, count, th, radius = _v.validate_fc_wta(potentials, count, threshold, radius, finite=False)
    x = np.ascontiguousarray(x)
    B, T, N = x.shape
    tmap, spike = _first_spike_pair(x, th)
    count = min(count, N)  # a neuron wins at most once; also bounds the output buffer
    out = np.zeros((B, count, 5), dtype=np.int32)
    n_out = np.zeros(B, dtype=np.int32)
    blocked = np.zeros((B, N), dtype=np.uint8)
    _k.fc_wta(tmap, spike, T, min(radius, N), count, out, n_out, blocked, _threads(tmap.size, B))
    return _compact(out, n_out)
