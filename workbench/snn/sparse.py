"""Event-driven path: every op works on first-spike time maps instead of spike-waves.

A layer's activity is a pair ``(tmap, spike_potential)``: ``tmap`` int32 (B, C, H, W)
holds each neuron's first-spike step (``T`` = never fired) and ``spike_potential`` the
membrane potential at that step (0 where never fired).  The (B, T, C, H, W) potentials are
never materialised, which is what makes this path cheap for large ``T``.  Each function
gives exactly the result of its dense counterpart followed by ``gather``:

=============  =====================================================================
sparse         dense equivalent
=============  =====================================================================
code           ``gather(rank_code(images, T, sort))``
conv           ``first_spike(conv(scatter(tmap, T), weight, ...), threshold)``
pad            ``gather(pad(scatter(tmap, T), padding))``
pool           ``gather(max_pool(scatter(tmap, T), kernel, stride, padding))``
inhibit        ``first_spike(inhibit(potentials))``
conv_wta       ``conv_wta(potentials, radius, count)``
stdp / rstdp   ``stdp(layer, wave, ...)`` with the input wave's time map
=============  =====================================================================

Spyker 0.1.0's ``spyker.sparse`` keeps event lists instead; our time maps are the dense
form of the same information (one event per neuron at most).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ._pool import pad_timemap, pool_timemap
from ._stdp import STDPConfig
from ._stdp import rstdp as _rstdp
from ._stdp import stdp as _stdp

__all__ = ["code", "conv", "pad", "pool", "inhibit", "conv_wta", "stdp", "rstdp"]


def _lookup(module: str, name: str) -> Callable:
    # Imported lazily: these modules are written in parallel and may not define the
    # function yet; sparse.py must stay importable meanwhile.
    mod = importlib.import_module(f"workbench.snn.{module}")
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotImplementedError(f"workbench.snn.{module}.{name} is not available")
    return fn


def code(images: np.ndarray, T: int, sort: bool = True) -> np.ndarray:
    """Rank-order (``sort=True``) or linear-latency code straight to a time map.

    Parameters
    ----------
    images : ndarray of float32/float64, shape (B, C, H, W)
    T : int
        Number of time steps.
    sort : bool
        As in :func:`workbench.snn.rank_code`.

    Returns
    -------
    ndarray of int32, shape (B, C, H, W)
        ``gather(rank_code(images, T, sort))``.
    """
    try:
        fn = _lookup("_coding", "rank_code_timemap")
    except NotImplementedError:
        gather = _lookup("_coding", "gather")
        return gather(_lookup("_coding", "rank_code")(images, T, sort=sort))
    return fn(images, T, sort=sort)


def conv(
    tmap: np.ndarray, weight: np.ndarray, threshold: float, T: int, stride=1, padding=0
) -> tuple[np.ndarray, np.ndarray]:
    """Convolution + fire on a time map (see :func:`workbench.snn.conv_fire_timemap`).

    Returns
    -------
    tmap : ndarray of int32, shape (B, F, OH, OW)
    spike_potential : ndarray, shape (B, F, OH, OW), dtype of ``weight``
    """
    return _lookup("_conv", "conv_fire_timemap")(tmap, weight, threshold, T, stride, padding)


def pad(tmap: np.ndarray, padding, T: int) -> np.ndarray:
    """Pad a time map with ``T`` (never fires); see :func:`workbench.snn.pad_timemap`."""
    return pad_timemap(tmap, padding, T)


def pool(tmap: np.ndarray, kernel, stride=None, padding=0, T: int | None = None) -> np.ndarray:
    """Max-pool a time map (earliest spike per window); see :func:`workbench.snn.pool_timemap`.

    ``T`` is needed only with padding.  Returns int32 (B, C, OH, OW).
    """
    return pool_timemap(tmap, kernel, stride, padding, T)


def inhibit(
    tmap: np.ndarray, spike_potential: np.ndarray, T: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise (feature) inhibition; see :func:`workbench.snn.inhibit_timemap`."""
    fn = _lookup("_inhibit", "inhibit_timemap")
    return fn(tmap, spike_potential, T)


def conv_wta(
    tmap: np.ndarray, spike_potential: np.ndarray, radius, count: int, T: int
) -> np.ndarray:
    """Convolutional k-WTA; see :func:`workbench.snn.conv_wta_timemap`.

    Returns int32 winners (n, 5) rows ``(batch, feature, time, y, x)``.
    """
    fn = _lookup("_wta", "conv_wta_timemap")
    return fn(tmap, spike_potential, radius, count, T)


def stdp(layer: Any, tmap: np.ndarray, winners: np.ndarray, config: STDPConfig) -> None:
    """STDP from the presynaptic time map (int32 (B, C, H, W) or (B, N)); in place.

    See :func:`workbench.snn.stdp`; identical to passing the input wave.
    """
    if isinstance(tmap, np.ndarray) and tmap.dtype != np.int32:
        raise TypeError(f"tmap must have dtype int32, got {tmap.dtype}")
    _stdp(layer, tmap, winners, config)


def rstdp(
    layer: Any,
    tmap: np.ndarray,
    winners: np.ndarray,
    reward: np.ndarray,
    reward_config: STDPConfig,
    punish_config: STDPConfig,
) -> None:
    """R-STDP from the presynaptic time map; see :func:`workbench.snn.rstdp`."""
    if isinstance(tmap, np.ndarray) and tmap.dtype != np.int32:
        raise TypeError(f"tmap must have dtype int32, got {tmap.dtype}")
    _rstdp(layer, tmap, winners, reward, reward_config, punish_config)
