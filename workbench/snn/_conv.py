"""Convolution and fully-connected layers on spike-waves and on time maps.

The compiled kernels live in ``core_cython/conv.pyx`` (``workbench._kernels.conv``);
this module validates arguments, allocates outputs and dispatches on dtype.

All ops compute a *cross-correlation* (no kernel flip), as Spyker 0.1.0 ``spyker.conv``
does (checked numerically against it).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._threads import kernel_threads
from .._validation import FLOAT_DTYPES, TIME_DTYPE, check_array, check_float, check_int, check_pair
from .._kernels import conv as _k
from ._dispatch import array_device, gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["conv", "Conv", "fc", "FC", "conv_fire_timemap", "conv_output_shape"]


def conv_output_shape(
    size: tuple[int, int], kernel_size: tuple[int, int], stride=1, padding=0
) -> tuple[int, int]:
    """Spatial output size ``(H', W')`` of a convolution.

    ``H' = (H + 2 * pad_y - kh) // stride_y + 1`` (and likewise for ``W'``); padding is
    symmetric (``pad_y`` rows on top and bottom, ``pad_x`` columns left and right).

    Parameters
    ----------
    size : (int, int)
        Input ``(H, W)``.
    kernel_size : (int, int)
        Kernel ``(kh, kw)``.
    stride, padding : int or (int, int)
        As in :func:`conv`.

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input.
    """
    h, w = check_pair(size, "size", min_value=1)
    kh, kw = check_pair(kernel_size, "kernel_size", min_value=1)
    sy, sx = check_pair(stride, "stride", min_value=1)
    py, px = check_pair(padding, "padding", min_value=0)
    if kh > h + 2 * py or kw > w + 2 * px:
        raise ValueError(
            f"kernel_size ({kh}, {kw}) is larger than the padded input ({h + 2 * py}, {w + 2 * px}) "
            f"(input {(h, w)}, padding {(py, px)})"
        )
    return (h + 2 * py - kh) // sy + 1, (w + 2 * px - kw) // sx + 1


def _transposed_padded(weight: np.ndarray) -> np.ndarray:
    """Weights as ``(C, kh, kw, Fp)``: features innermost, zero-padded to a multiple of 8.

    Features innermost make every input spike add one contiguous weight vector; the
    padding lets the kernels' innermost loops run whole SIMD vectors with no scalar tail.
    """
    f, c, kh, kw = weight.shape
    fp = -(-f // 8) * 8
    wt = np.zeros((c, kh, kw, fp), dtype=weight.dtype)
    wt[..., :f] = weight.transpose(1, 2, 3, 0)
    return wt


@gpu_dispatch()
def conv(wave: np.ndarray, weight: np.ndarray, stride=1, padding=0) -> np.ndarray:
    """Per-step 2-D cross-correlation of a spike-wave with a bank of kernels.

    Parameters
    ----------
    wave : numpy.ndarray, uint8, shape (B, T, C, H, W)
        Cumulative spike-wave (``wave[b, t] == 1`` iff the neuron fired at or before
        step ``t``).  Other uint8 waves are accepted too (see Notes).
    weight : numpy.ndarray, float32 or float64, shape (F, C, kh, kw)
        Kernels; any sign.
    stride : int or (int, int)
        Step ``(sy, sx)`` between output positions, >= 1.
    padding : int or (int, int)
        Zero rows ``py`` added on top and bottom, zero columns ``px`` left and right.

    Returns
    -------
    numpy.ndarray, weight's dtype, shape (B, T, F, H', W')
        ``potentials[b, t, f, i, j] = sum_{c, u, v} wave_padded[b, t, c, i*sy + u, j*sx + v]
        * weight[f, c, u, v]`` with ``H' = (H + 2 py - kh) // sy + 1``.

    Notes
    -----
    For cumulative 0/1 samples the wave is read as a first-spike time map and each input
    spike is added once, at its first-spike step, into running potentials that are
    copied out after every step (cost proportional to the number of spikes times the
    kernel size, not to ``T``; see ``core_cython/conv.pyx``).  A sample
    whose wave is not cumulative (a neuron switching off, or a value > 1) is computed
    step by step instead, with values used as multiplicities -- exactly what
    ``spyker.conv`` does with such input (checked).  Differences from Spyker 0.1.0:
    float64 is supported (Spyker's CPU conv rejects it), and padding is given as
    ``(py, px)`` pairs only (no asymmetric 4-tuples).  Potentials equal a direct
    per-step sum to float rounding (the summation order differs).
    """
    wave, weight, (sy, sx), (py, px), (ho, wo) = _v.validate_conv(wave, weight, stride, padding)
    wave = np.ascontiguousarray(wave)
    b, t = wave.shape[:2]
    f = weight.shape[0]
    wt = _transposed_padded(weight)
    out = np.empty((b, t, f, ho, wo), dtype=weight.dtype)
    # Parallel over samples: one sample (online learning) runs on one thread, so no idle
    # thread spins at the region's barrier (ruinous on a busy machine: 11 ms instead of 0.7).
    _k.conv_wave(wave, wt, out, sy, sx, py, px, kernel_threads(out.size * wt.shape[0] * wt.shape[1] * wt.shape[2], b))
    return out


@gpu_dispatch()
def conv_fire_timemap(
    tmap: np.ndarray, weight: np.ndarray, threshold: float, T: int, stride=1, padding=0
) -> tuple[np.ndarray, np.ndarray]:
    """Event-driven convolution + fire on a first-spike time map.

    Parameters
    ----------
    tmap : numpy.ndarray, int32, shape (B, C, H, W)
        First-spike steps in ``[0, T]``; ``T`` means never fired.
    weight : numpy.ndarray, float32 or float64, shape (F, C, kh, kw)
        Kernels; any sign.
    threshold : float
        An output neuron fires at the first step whose potential is strictly greater.
    T : int
        Number of time steps, >= 1.
    stride, padding : int or (int, int)
        As in :func:`conv`.

    Returns
    -------
    out_tmap : numpy.ndarray, int32, shape (B, F, H', W')
        First step ``t`` with ``potential[t] > threshold``, ``T`` if none.
    out_spike_potential : numpy.ndarray, weight's dtype, shape (B, F, H', W')
        The potential at that step, 0 where the neuron never fired.

    Notes
    -----
    Equals ``first_spike(conv(scatter(tmap, T), weight, stride, padding), threshold)``
    exactly (same arithmetic in the same order) without materialising the
    ``(B, T, F, H', W')`` potentials.  The threshold is compared in the weights'
    precision (cast to float32 for float32 weights, as NumPy compares a float32 array with
    a Python float).  With signed weights a potential can fall back below the threshold;
    the neuron still counts as fired at its first crossing, which matches
    ``spyker.sparse.conv`` (checked).  Beyond Spyker: stride > 1 is supported
    (``spyker.sparse.conv`` requires stride 1) and float64.
    """
    tmap, weight, threshold, T, (sy, sx), (py, px), (ho, wo) = _v.validate_conv_fire_timemap(
        tmap, weight, threshold, T, stride, padding)
    tmap = np.ascontiguousarray(tmap)
    b, f = tmap.shape[0], weight.shape[0]
    wt = _transposed_padded(weight)
    out_t = np.empty((b, f, ho, wo), dtype=TIME_DTYPE)
    out_p = np.empty((b, f, ho, wo), dtype=weight.dtype)
    # Parallel over samples: one sample (online learning) runs on one thread (see conv).
    _k.conv_fire_timemap(tmap, wt, out_t, out_p, threshold, T, sy, sx, py, px,
                         kernel_threads(out_t.size * wt.shape[0] * wt.shape[1] * wt.shape[2], b))
    return out_t, out_p


@gpu_dispatch()
def fc(wave: np.ndarray, weight: np.ndarray, sign: bool = False) -> np.ndarray:
    """Fully-connected layer on a spike-wave: per-step ``potentials = wave @ weight.T``.

    Parameters
    ----------
    wave : numpy.ndarray, uint8, shape (B, T, N) or (B, T, C, H, W)
        Cumulative spike-wave; a 5-D wave is flattened to ``N = C * H * W`` in C order.
    weight : numpy.ndarray, float32 or float64, shape (M, N)
        Weights; any sign.
    sign : bool
        Use ``numpy.sign(weight)`` instead of ``weight`` (Spyker's ``fc(..., sign=True)``:
        "run the kernel through the sign function", checked numerically).

    Returns
    -------
    numpy.ndarray, weight's dtype, shape (B, T, M)
        ``potentials[b, t, m] = sum_n wave[b, t, n] * weight[m, n]``.

    Notes
    -----
    Runs the convolution kernel on a ``1 x N`` image with ``1 x N`` kernels, so it shares
    :func:`conv`'s algorithm and its handling of non-cumulative waves.  Beyond Spyker:
    5-D waves are flattened (Spyker requires 3-D input); signed weights are used as they
    are (``sign`` is only for parity with Spyker).
    """
    # zip() in check_array stops at the array's ndim, so one min_shape serves 3-D and 5-D
    wave, weight, sign, n = _v.validate_fc(wave, weight, sign)
    wave, weight = np.ascontiguousarray(wave), np.ascontiguousarray(weight)
    b, t = wave.shape[:2]
    m = weight.shape[0]
    if sign:
        weight = np.sign(weight)
    # as a 1 x N image and M kernels of 1 x N: the spikes of a sample form one input row,
    # sorted once by step (N channels of 1x1 would need per-channel bookkeeping)
    return conv(wave.reshape(b, t, 1, 1, n), weight.reshape(m, 1, 1, n)).reshape(b, t, m)


def _init_weight(shape: tuple[int, ...], mean: float, std: float, seed, dtype) -> np.ndarray:
    mean = check_float(mean, "mean")
    std = check_float(std, "std", min_value=0.0)
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    if seed is not None and not isinstance(seed, (Integral, np.random.SeedSequence)):
        raise TypeError(f"seed must be an int, a SeedSequence or None, got {type(seed).__name__}")
    if isinstance(seed, Integral) and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(rng.normal(mean, std, size=shape).astype(dt))


class _Layer:
    """Shared weight handling: ``.weight`` assignable with shape/dtype validation."""

    _weight: np.ndarray

    @property
    def weight(self) -> np.ndarray:
        """The weights (modified in place by STDP)."""
        return self._weight

    @weight.setter
    def weight(self, value: np.ndarray) -> None:
        if array_device(value) == "cuda":  # a CuPy array: the layer lives on the GPU
            if value.shape != self._weight.shape or value.dtype != self._weight.dtype:
                raise ValueError(f"weight must have shape {self._weight.shape} and dtype {self._weight.dtype}, "
                                 f"got {value.shape} {value.dtype}")
            self._weight = value
            return
        value = check_array(value, "weight", ndim=self._weight.ndim, dtypes=FLOAT_DTYPES, finite=True)
        if value.shape != self._weight.shape:
            raise ValueError(f"weight must have shape {self._weight.shape}, got {value.shape}")
        if value.dtype != self._weight.dtype:
            raise TypeError(f"weight must have dtype {self._weight.dtype} (the layer's dtype), got {value.dtype}")
        self._weight = value

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the weights and of the potentials."""
        return self._weight.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda"``: where the weights live (and the layer computes)."""
        return array_device(self._weight) or "cpu"

    def to(self, device: str):
        """Move the weights to ``"cpu"`` (NumPy) or ``"cuda"`` (CuPy); returns the layer.

        Calls with CuPy inputs then run on the GPU (:mod:`workbench.cuda`).
        """
        from ..cuda import to_device

        self._weight = to_device(self._weight, device)
        return self


class Conv(_Layer):
    """A convolutional layer of spiking neurons (weights only; firing is separate).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and ``F``.
    kernel_size : int or (int, int)
        ``(kh, kw)``.
    stride, padding : int or (int, int)
        As in :func:`conv`.
    mean, std : float
        Initial weights are drawn from ``N(mean, std)`` (Spyker's defaults 0.5, 0.02).
    seed : int or None
        Seed of the :class:`numpy.random.Generator` drawing the weights.
    dtype : float32 or float64

    Attributes
    ----------
    weight : numpy.ndarray, shape (F, C, kh, kw)
    stride, padding, kernel_size : (int, int)

    Notes
    -----
    Spyker draws from its own generator, so the same seed gives different weights
    than ``spyker.Conv``; copy weights across to compare.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        mean: float = 0.5,
        std: float = 0.02,
        seed: int | None = None,
        dtype=np.float32,
    ) -> None:
        self.in_channels = check_int(in_channels, "in_channels", min_value=1)
        self.out_channels = check_int(out_channels, "out_channels", min_value=1)
        self.kernel_size = check_pair(kernel_size, "kernel_size", min_value=1)
        self.stride = check_pair(stride, "stride", min_value=1)
        self.padding = check_pair(padding, "padding", min_value=0)
        self._weight = _init_weight(
            (self.out_channels, self.in_channels, *self.kernel_size), mean, std, seed, dtype
        )

    def __call__(self, wave: np.ndarray) -> np.ndarray:
        """Potentials ``(B, T, F, H', W')`` of a wave ``(B, T, C, H, W)``; see :func:`conv`."""
        return conv(wave, self._weight, self.stride, self.padding)

    def fire_timemap(self, tmap: np.ndarray, threshold: float, T: int) -> tuple[np.ndarray, np.ndarray]:
        """Event-driven conv + fire on a time map; see :func:`conv_fire_timemap`."""
        return conv_fire_timemap(tmap, self._weight, threshold, T, self.stride, self.padding)

    def output_shape(self, size: tuple[int, int]) -> tuple[int, int]:
        """Spatial output size for an input of spatial size ``size``."""
        return conv_output_shape(size, self.kernel_size, self.stride, self.padding)

    def __repr__(self) -> str:
        return (
            f"Conv({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dtype={self.dtype.name})"
        )


class FC(_Layer):
    """A fully-connected layer of spiking neurons.

    Parameters
    ----------
    in_features, out_features : int
        ``N`` and ``M``.
    mean, std : float
        Initial weights are drawn from ``N(mean, std)``.
    seed : int or None
        Seed of the :class:`numpy.random.Generator` drawing the weights.
    dtype : float32 or float64

    Attributes
    ----------
    weight : numpy.ndarray, shape (M, N)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        mean: float = 0.5,
        std: float = 0.02,
        seed: int | None = None,
        dtype=np.float32,
    ) -> None:
        self.in_features = check_int(in_features, "in_features", min_value=1)
        self.out_features = check_int(out_features, "out_features", min_value=1)
        self._weight = _init_weight((self.out_features, self.in_features), mean, std, seed, dtype)

    def __call__(self, wave: np.ndarray, sign: bool = False) -> np.ndarray:
        """Potentials ``(B, T, M)`` of a wave ``(B, T, N)`` or ``(B, T, C, H, W)``; see :func:`fc`."""
        return fc(wave, self._weight, sign)

    def __repr__(self) -> str:
        return f"FC({self.in_features}, {self.out_features}, dtype={self.dtype.name})"
