"""Spatial padding and pooling of spike-waves, images and first-spike time maps.

Padding specifications follow Spyker 0.1.0's *behaviour* (checked on ``spyker.pad``):
an int pads all four sides, a pair ``(py, px)`` pads top/bottom by ``py`` and left/right
by ``px``, and a 4-sequence is ``(top, left, bottom, right)``.  (Spyker's docstring says
``(width, height)`` and ``(left, right, top, bottom)``, but its code does the above.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._threads import get_num_threads
from .._validation import FLOAT_DTYPES, TIME_DTYPE, WAVE_DTYPE, check_array
from .._kernels import pool as _k
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["pad", "pad_timemap", "max_pool", "rate_pool", "pool_timemap", "pool_output_shape"]

PadSpec = int | Sequence[int]
_PAD_DTYPES = (WAVE_DTYPE, TIME_DTYPE, *FLOAT_DTYPES)


# Normalise a padding spec to (top, bottom, left, right): one definition, shared with the GPU ops.
_padding4 = _v.padding4


def _pad_array(x: np.ndarray, pads: tuple[int, int, int, int], value) -> np.ndarray:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    shape = (*x.shape[:-2], x.shape[-2] + top + bottom, x.shape[-1] + left + right)
    out = np.full(shape, value, dtype=x.dtype)
    out[..., top : top + x.shape[-2], left : left + x.shape[-1]] = x
    return out


@gpu_dispatch()
def pad(x: np.ndarray, padding: PadSpec = 0, value: float = 0) -> np.ndarray:
    """Pad the two spatial (last) axes of a wave, image batch, potentials or time map.

    Parameters
    ----------
    x : ndarray, shape (B, C, H, W) or (B, T, C, H, W)
        uint8 wave, int32 time map or float32/float64 images/potentials.
    padding : int, (py, px) or (top, left, bottom, right)
        Non-negative padding (Spyker's order, see the module docstring).
    value : float
        Fill value; must be representable in ``x.dtype`` (e.g. 0..255 for uint8).

    Returns
    -------
    ndarray, shape (..., H + top + bottom, W + left + right)
        A new array of ``x.dtype`` (``x`` itself is returned when the padding is all zero).

    Notes
    -----
    For a time map the "never fired" fill is ``T``; use :func:`pad_timemap` for that.
    """
    x, pads, value = _v.validate_pad(x, padding, value)
    return _pad_array(x, pads, value)


@gpu_dispatch()
def pad_timemap(tmap: np.ndarray, padding: PadSpec, T: int | None = None) -> np.ndarray:
    """Pad a first-spike time map with ``T`` ("never fires").

    Parameters
    ----------
    tmap : ndarray of int32, shape (B, C, H, W)
        First-spike steps in ``[0, T]``.
    padding : int, (py, px) or (top, left, bottom, right)
        As in :func:`pad`.
    T : int, optional
        Number of time steps.  Required when the padding is not all zero (a time map does
        not carry ``T`` itself).

    Returns
    -------
    ndarray of int32, shape (B, C, H + top + bottom, W + left + right)
        Equal to ``gather(pad(scatter(tmap, T), padding))``.
    """
    tmap, pads, T = _v.validate_pad_timemap(tmap, padding, T)
    return _pad_array(tmap, pads, T)


def pool_output_shape(
    height: int, width: int, kernel, stride=None, padding: PadSpec = 0
) -> tuple[int, int]:
    """Spatial output size ``(OH, OW)`` of a pooling: ``(H + pt + pb - kh) // sh + 1``."""
    return _geometry((height, width), kernel, stride, padding)[3]


# (shape, kernel, stride, padding) -> ((kh, kw), (sh, sw), pads, (OH, OW)); one definition
_geometry = _v._pool_geometry


def _max_pool_cumulative(wave, out, pads, kernel, stride) -> bool:
    """Fast path of :func:`max_pool` for 0/1 cumulative uint8 waves (the usual spike-wave).

    Pools the first-spike time map instead of every step: O(B*C*H*W) window work instead of
    O(B*T*C*H*W).  Returns False (``out`` then holds garbage) when some sample is not a 0/1
    cumulative wave, and the caller runs the general kernel, so results never depend on
    which path ran.
    """
    B, _, _, H, W = wave.shape
    top, bottom, left, right = pads
    hp, wp = H + top + bottom, W + left + right
    oh, ow = out.shape[3:]
    cnt = np.empty((B, H * W), dtype=np.int32)
    tm = np.empty((B, hp * wp), dtype=np.int32)
    otm = np.empty((B, oh * ow), dtype=np.int32)
    bad = np.empty(B, dtype=np.uint8)
    _k.max_pool_cumulative(wave, out, cnt, tm, otm, top, left, wp, *kernel, *stride, bad, get_num_threads())
    return not bad.any()


@gpu_dispatch()
def max_pool(wave: np.ndarray, kernel, stride=None, padding: PadSpec = 0) -> np.ndarray:
    """Spatial max-pooling of a cumulative spike-wave (earliest spike in the window wins).

    Parameters
    ----------
    wave : ndarray, shape (B, T, C, H, W)
        uint8 cumulative wave (or float32/float64 per-step values, pooled the same way).
    kernel : int or (kh, kw)
        Window size (>= 1).
    stride : int or (sh, sw), optional
        Step between windows; defaults to ``kernel``.
    padding : int, (py, px) or (top, left, bottom, right)
        Zero padding (as in :func:`pad`).

    Returns
    -------
    ndarray, shape (B, T, C, OH, OW), dtype of ``wave``
        ``OH = (H + top + bottom - kh) // sh + 1`` (same for width).

    Notes
    -----
    On a cumulative wave the per-step maximum fires at the first step any input of the
    window fires, so ``gather(max_pool(w)) == pool_timemap(gather(w))``.  Like Spyker,
    padding is filled with 0 before the maximum (for float inputs with negative values
    that makes padded windows at least 0).

    A uint8 wave that is 0/1 and cumulative (checked on the fly) is pooled through its
    time map, which is several times faster; any other input (counts from rate firing,
    non-monotone waves, float values) takes the general per-step path.  Both give
    identical results where both apply.
    """
    wave, (kh, kw), (sh, sw), pads, (oh, ow) = _v.validate_max_pool(wave, kernel, stride, padding)
    wave = np.ascontiguousarray(wave)
    out = np.empty((*wave.shape[:3], oh, ow), dtype=wave.dtype)
    if wave.dtype == WAVE_DTYPE and wave.size and _max_pool_cumulative(wave, out, pads, (kh, kw), (sh, sw)):
        return out
    x = _pad_array(wave, pads, 0)
    scratch = np.empty((wave.shape[0], x.shape[3], ow), dtype=wave.dtype)
    _k.max_pool(x, out, scratch, kh, kw, sh, sw, get_num_threads())
    return out


def rate_pool(
    wave: np.ndarray, rates: np.ndarray, kernel, stride=None, padding: PadSpec = 0
) -> np.ndarray:
    """Rate pooling: each window copies the whole time course of its highest-rate input.

    Parameters
    ----------
    wave : ndarray, shape (B, T, C, H, W)
        uint8 wave or float32/float64 values.
    rates : ndarray of float32/float64, shape (B, C, H, W)
        Finite per-input rates (e.g. firing counts); they choose, per window, which input
        is passed through.
    kernel, stride, padding
        As in :func:`max_pool`.

    Returns
    -------
    ndarray, shape (B, T, C, OH, OW), dtype of ``wave``

    Notes
    -----
    Matches ``spyker.pool(wave, kernel, stride, rates=rates)``: ties go to the first
    maximum in row-major window order.  Differences from Spyker: the wave and ``rates``
    may have different dtypes (Spyker requires equal ones, so a uint8 wave is not
    accepted there), and padding is supported (Spyker raises): padded positions never
    win unless the whole window is padding, in which case the output is 0.
    """
    wave = check_array(wave, "wave", ndim=5, dtypes=(WAVE_DTYPE, *FLOAT_DTYPES), finite=True)
    rates = check_array(rates, "rates", ndim=4, dtypes=FLOAT_DTYPES, finite=True)
    B, T, C, H, W = wave.shape
    if rates.shape != (B, C, H, W):
        raise ValueError(f"rates must have shape {(B, C, H, W)} (wave without T), got {rates.shape}")
    (kh, kw), (sh, sw), pads, (oh, ow) = _geometry(wave.shape, kernel, stride, padding)
    x = _pad_array(wave, pads, 0)
    # -inf padding: a padded position can only be chosen when the whole window is padding.
    r = _pad_array(rates, pads, -np.inf)
    out = np.empty((B, T, C, oh, ow), dtype=wave.dtype)
    _k.rate_pool(x, r, out, kh, kw, sh, sw, get_num_threads())
    return out


@gpu_dispatch()
def pool_timemap(
    tmap: np.ndarray, kernel, stride=None, padding: PadSpec = 0, T: int | None = None
) -> np.ndarray:
    """Pool a first-spike time map: the minimum (earliest) time over each window.

    Parameters
    ----------
    tmap : ndarray of int32, shape (B, C, H, W)
        First-spike steps (``T`` = never fired).
    kernel, stride, padding
        As in :func:`max_pool`.
    T : int, optional
        Number of time steps; required when the padding is not all zero (padding
        positions get time ``T``).

    Returns
    -------
    ndarray of int32, shape (B, C, OH, OW)
        Equal to ``gather(max_pool(scatter(tmap, T), kernel, stride, padding))``.
    """
    tmap, (kh, kw), (sh, sw), pads, (oh, ow), T = _v.validate_pool_timemap(tmap, kernel, stride, padding, T)
    x = np.ascontiguousarray(_pad_array(tmap, pads, T))
    out = np.empty((*tmap.shape[:2], oh, ow), dtype=TIME_DTYPE)
    _k.min_pool_timemap(x, out, kh, kw, sh, sw, get_num_threads())
    return out
