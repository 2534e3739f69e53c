"""Input validation of the spiking ops, shared by the CPU core and the CUDA front end.

Every public spiking op exists twice: in :mod:`workbench.snn` (NumPy arrays, Cython
kernels) and in :mod:`workbench.cuda` (CuPy arrays, CUDA kernels).  Their inputs must be
held to the same contract -- ndim, dtype, shape, value ranges, finiteness, the scalar
parameters -- so the ``validate_*`` functions below hold that contract once, for either
array library:

* metadata checks (type, ``ndim``, ``dtype``, ``shape``) read only array attributes, which
  NumPy and CuPy share;
* value checks (finiteness, time-map ranges, winner coordinates) are reductions that
  return one scalar (``min``, ``max``, ``isfinite(...).all()``), so on a GPU they cost one
  small device-to-host copy and never bring the array to the host.

``device`` says which array type an argument must be: ``"cpu"`` (:class:`numpy.ndarray`)
or ``"cuda"`` (the CuPy array type known to :mod:`workbench.snn._dispatch`).  Each
validator returns the normalised arguments; it never copies or reorders an array (making
it C-contiguous is the caller's job, on its own device).

Some CPU kernels check finiteness or time ranges inside their single pass over the data
(``finite=False`` / ``check_values=False`` below skip the separate reduction there); the
messages are the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np

from .._validation import (
    FLOAT_DTYPES,
    TIME_DTYPE,
    WAVE_DTYPE,
    _dtype_names,
    check_choice,
    check_float,
    check_int,
    check_pair,
)
from . import _dispatch

# Integer label dtypes accepted by the decision ops (converted to int64 for the kernel).
INT_DTYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32)

__all__ = [
    "DEVICES",
    "on_device",
    "check_device_array",
    "all_finite",
    "value_range",
    "check_times",
    "padding4",
    "validate_images",
    "validate_rank_code_timemap",
    "validate_gather",
    "validate_scatter",
    "validate_infinite",
    "validate_weight",
    "validate_conv",
    "validate_conv_fire_timemap",
    "validate_fc",
    "validate_potentials",
    "validate_threshold",
    "validate_quantize",
    "validate_fire",
    "validate_first_spike",
    "validate_inhibit",
    "validate_spike_pair",
    "validate_conv_wta",
    "validate_conv_wta_timemap",
    "validate_fc_wta",
    "validate_pad",
    "validate_pad_timemap",
    "validate_pool_timemap",
    "validate_max_pool",
    "validate_winners",
    "StdpInputs",
    "validate_config",
    "validate_stdp",
    "validate_reward",
    "validate_rstdp",
    "MAX_T",
    "MAX_RATE_T",
]

DEVICES = ("cpu", "cuda")
_ARRAY_KIND = {"cpu": "numpy.ndarray", "cuda": "cupy.ndarray"}

# Spyker stores spike steps as uint16; the coders keep T in that range (see _coding).
MAX_T = 65535
# Rate firing stores cumulative spike counts in uint8.
MAX_RATE_T = 255


# --------------------------------------------------------------------------- arrays
def on_device(x: Any, device: str) -> bool:
    """Whether ``x`` is an array of ``device`` (``"cpu"``: NumPy, ``"cuda"``: CuPy)."""
    # The CuPy type is read from _dispatch at call time (one place; tests substitute it).
    gpu_types = _dispatch._CUPY_ARRAY
    if device == "cuda":
        return bool(gpu_types) and isinstance(x, gpu_types)
    if device == "cpu":
        return isinstance(x, np.ndarray) and not (gpu_types and isinstance(x, gpu_types))
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


def all_finite(x) -> bool:
    """True when a floating array holds no NaN or infinity (one scalar comes back).

    NumPy: ``min`` and ``max`` propagate NaN and expose infinities without a full-size
    temporary.  Other array types (CuPy) use ``((x - x) == 0).all()`` -- ``x - x`` is 0
    for every finite value and NaN for NaN and +-inf -- which needs only the array's own
    operators (it runs on the array's device) and no NaN propagation through ``min`` /
    ``max``, which CuPy does not promise under its cuTENSOR reduction accelerator.
    """
    if x.size == 0 or np.dtype(x.dtype).kind != "f":
        return True
    if type(x) is np.ndarray:
        return math.isfinite(float(x.min())) and math.isfinite(float(x.max()))
    with np.errstate(invalid="ignore"):  # inf - inf is the point here (NumPy-backed arrays warn)
        return bool(((x - x) == 0).all())


def value_range(x) -> tuple:
    """``(min, max)`` of a non-empty array as Python numbers (two scalar reductions)."""
    lo, hi = x.min(), x.max()
    if np.dtype(x.dtype).kind in "iub":
        return int(lo), int(hi)
    return float(lo), float(hi)


def check_device_array(
    x,
    name: str,
    device: str = "cpu",
    *,
    ndim: int | Sequence[int] | None = None,
    dtypes: Sequence | None = None,
    finite: bool = False,
    min_shape: Sequence[int] | None = None,
):
    """Validate an array argument of either device; returns it unchanged.

    Same rules and messages as :func:`workbench._validation.check_array` (which it mirrors
    for NumPy), without the contiguity step.

    Parameters
    ----------
    x : numpy.ndarray or cupy.ndarray
    name : str
        Argument name used in messages.
    device : {"cpu", "cuda"}
        Which array type ``x`` must be.
    ndim, dtypes, finite, min_shape
        As in :func:`workbench._validation.check_array`.

    Raises
    ------
    TypeError
        ``x`` is not an array of ``device``, or has a dtype outside ``dtypes``.
    ValueError
        Wrong number of dimensions, an axis shorter than ``min_shape``, non-finite values.
    """
    if not on_device(x, device):
        raise TypeError(f"{name} must be a {_ARRAY_KIND[device]}, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, Integral) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if dtypes is not None:
        allowed_dt = tuple(np.dtype(d) for d in dtypes)
        if np.dtype(x.dtype) not in allowed_dt:
            raise TypeError(f"{name} must have dtype {_dtype_names(allowed_dt)}, got {x.dtype}")
    if min_shape is not None:
        for axis, (have, need) in enumerate(zip(x.shape, min_shape)):
            if have < need:
                raise ValueError(
                    f"{name} must have at least {need} element(s) along axis {axis}, got shape {tuple(x.shape)}"
                )
    if finite and not all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_times(tmap, name: str, T: int | None) -> None:
    """Time-map values must lie in ``[0, T]`` (only ``>= 0`` when ``T`` is None)."""
    if tmap.size == 0:
        return
    lo, hi = value_range(tmap)
    if T is None:
        if lo < 0:
            raise ValueError(f"{name} values must be non-negative, got {lo}")
    elif lo < 0 or hi > T:
        raise ValueError(f"{name} values must lie in [0, T={T}] (non-negative, T = never fired), got [{lo}, {hi}]")


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _check_T(T, name: str = "T", max_value: int | None = None) -> int:
    # T is required wherever it is a parameter: a time map alone cannot tell "fired at the
    # last step" from "never fired" (None is rejected as a non-integer, TypeError)
    return check_int(T, name, min_value=1, max_value=max_value)


# --------------------------------------------------------------------------- geometry
def padding4(padding, name: str = "padding") -> tuple[int, int, int, int]:
    """A padding spec as ``(top, bottom, left, right)``: int, ``(py, px)`` or
    ``(top, left, bottom, right)`` (Spyker's behaviour; see :mod:`workbench.snn._pool`)."""
    if isinstance(padding, Integral) and not isinstance(padding, bool):
        p = check_int(padding, name, min_value=0)
        return (p, p, p, p)
    if isinstance(padding, Sequence) and not isinstance(padding, str):
        if len(padding) == 2:
            py, px = check_pair(tuple(padding), name, min_value=0)
            return (py, py, px, px)
        if len(padding) == 4:
            top, left, bottom, right = (check_int(v, name, min_value=0) for v in padding)
            return (top, bottom, left, right)
    raise TypeError(f"{name} must be an int, a pair (py, px) or 4 ints (top, left, bottom, right), got {padding!r}")


def _conv_out(size, kernel_size, stride, padding) -> tuple[int, int]:
    (h, w), (kh, kw), (sy, sx), (py, px) = size, kernel_size, stride, padding
    if kh > h + 2 * py or kw > w + 2 * px:
        raise ValueError(
            f"kernel_size ({kh}, {kw}) is larger than the padded input ({h + 2 * py}, {w + 2 * px}) "
            f"(input {(h, w)}, padding {(py, px)})"
        )
    return (h + 2 * py - kh) // sy + 1, (w + 2 * px - kw) // sx + 1


def _pool_geometry(shape, kernel, stride, padding):
    kh, kw = check_pair(kernel, "kernel", min_value=1)
    sh, sw = check_pair(kernel if stride is None else stride, "stride", min_value=1)
    pads = padding4(padding)
    top, bottom, left, right = pads
    hp, wp = shape[-2] + top + bottom, shape[-1] + left + right
    if hp < kh or wp < kw:
        raise ValueError(f"kernel {(kh, kw)} is larger than the padded input {(hp, wp)}")
    return (kh, kw), (sh, sw), pads, ((hp - kh) // sh + 1, (wp - kw) // sw + 1)


# --------------------------------------------------------------------------- coding
def validate_images(images, device: str = "cpu", name: str = "images"):
    """Images ``(B, C, H, W)``, float32/float64, finite, no empty axis."""
    return check_device_array(images, name, device, ndim=4, dtypes=FLOAT_DTYPES, finite=True, min_shape=(1, 1, 1, 1))


def validate_rank_code_timemap(images, T, sort, device: str = "cpu"):
    """-> ``(images, T, sort)`` for ``rank_code`` / ``rank_code_timemap``."""
    images = validate_images(images, device)
    T = _check_T(T, max_value=MAX_T)
    sort = _check_bool(sort, "sort")
    if int(np.prod(images.shape[1:])) >= 2**32:
        raise ValueError("images has too many values per sample (>= 2**32)")
    return images, T, sort


def validate_gather(wave, device: str = "cpu"):
    """Wave ``(B, T, ...)`` (3-D or 5-D) uint8 with at least one step."""
    return check_device_array(wave, "wave", device, ndim=(3, 5), dtypes=(WAVE_DTYPE,), min_shape=(0, 1, 0, 0, 0))


def validate_scatter(tmap, T, device: str = "cpu"):
    """-> ``(tmap, T)``; values in ``[0, T]``."""
    T = _check_T(T, max_value=MAX_T)
    tmap = check_device_array(tmap, "tmap", device, ndim=(2, 4), dtypes=(TIME_DTYPE,))
    check_times(tmap, "tmap", T)
    return tmap, T


def validate_infinite(wave, device: str = "cpu"):
    return check_device_array(wave, "wave", device, ndim=5, dtypes=(WAVE_DTYPE,), min_shape=(0, 1, 0, 0, 0))


# --------------------------------------------------------------------------- conv / fc
def validate_weight(weight, device: str = "cpu", *, ndim: int = 4, name: str = "weight"):
    return check_device_array(weight, name, device, ndim=ndim, dtypes=FLOAT_DTYPES, finite=True, min_shape=(1,) * ndim)


def _check_channels(wc: int, c: int, wshape, other: str, oshape) -> None:
    if wc != c:
        raise ValueError(
            f"weight has {wc} input channel(s) but {other} has {c} (weight {tuple(wshape)}, {other} {tuple(oshape)})"
        )


def validate_conv(wave, weight, stride=1, padding=0, device: str = "cpu"):
    """-> ``(wave, weight, (sy, sx), (py, px), (H', W'))`` for ``conv``."""
    wave = check_device_array(wave, "wave", device, ndim=5, dtypes=(WAVE_DTYPE,), min_shape=(1, 1, 1, 1, 1))
    weight = validate_weight(weight, device)
    _check_channels(weight.shape[1], wave.shape[2], weight.shape, "wave", wave.shape)
    stride = check_pair(stride, "stride", min_value=1)
    padding = check_pair(padding, "padding", min_value=0)
    out_hw = _conv_out(wave.shape[3:], weight.shape[2:], stride, padding)
    return wave, weight, stride, padding, out_hw


def validate_conv_fire_timemap(tmap, weight, threshold, T, stride=1, padding=0, device: str = "cpu"):
    """-> ``(tmap, weight, threshold, T, (sy, sx), (py, px), (H', W'))``."""
    tmap = check_device_array(tmap, "tmap", device, ndim=4, dtypes=(TIME_DTYPE,), min_shape=(1, 1, 1, 1))
    weight = validate_weight(weight, device)
    threshold = check_float(threshold, "threshold")
    T = _check_T(T)
    _check_channels(weight.shape[1], tmap.shape[1], weight.shape, "tmap", tmap.shape)
    check_times(tmap, "tmap", T)
    stride = check_pair(stride, "stride", min_value=1)
    padding = check_pair(padding, "padding", min_value=0)
    out_hw = _conv_out(tmap.shape[2:], weight.shape[2:], stride, padding)
    return tmap, weight, threshold, T, stride, padding, out_hw


def validate_fc(wave, weight, sign=False, device: str = "cpu"):
    """-> ``(wave, weight, sign, N)`` for ``fc`` (a 5-D wave counts ``N = C*H*W`` inputs)."""
    # zip() stops at the array's ndim, so one min_shape serves 3-D and 5-D waves
    wave = check_device_array(wave, "wave", device, ndim=(3, 5), dtypes=(WAVE_DTYPE,), min_shape=(1, 1, 1, 1, 1))
    weight = validate_weight(weight, device, ndim=2)
    sign = _check_bool(sign, "sign")
    n = int(np.prod(wave.shape[2:]))
    if weight.shape[1] != n:
        raise ValueError(
            f"weight has {weight.shape[1]} input feature(s) but wave has {n} "
            f"(weight {tuple(weight.shape)}, wave {tuple(wave.shape)})"
        )
    return wave, weight, sign, n


# --------------------------------------------------------------------------- fire
def validate_potentials(potentials, device: str = "cpu", *, ndim=(3, 5), finite: bool = True, name: str = "potentials"):
    """Per-step potentials ``(B, T, ...)``, float32/float64, no empty axis."""
    nd = (ndim,) if isinstance(ndim, Integral) else tuple(ndim)
    return check_device_array(potentials, name, device, ndim=nd, dtypes=FLOAT_DTYPES, finite=finite,
                              min_shape=(1,) * max(nd))


def validate_threshold(potentials, threshold, value=0.0, device: str = "cpu"):
    """-> ``(potentials, threshold, value)`` for ``threshold`` (any shape)."""
    x = check_device_array(potentials, "potentials", device, dtypes=FLOAT_DTYPES, finite=True)
    return x, check_float(threshold, "threshold"), check_float(value, "value")


def validate_quantize(x, lower, middle, upper, device: str = "cpu"):
    """-> ``(x, lower, middle, upper)`` for ``quantize`` (any shape)."""
    x = check_device_array(x, "x", device, dtypes=FLOAT_DTYPES, finite=True)
    return x, check_float(lower, "lower"), check_float(middle, "middle"), check_float(upper, "upper")


def validate_fire(potentials, threshold=0.0, method: str = "rank", device: str = "cpu", *, finite: bool = True):
    """-> ``(potentials, threshold, method)``; ``method="rate"`` needs ``T <= 255``."""
    method = check_choice(method, "method", ("rank", "rate"))
    x = validate_potentials(potentials, device, finite=finite)
    threshold = check_float(threshold, "threshold")
    if method == "rate" and x.shape[1] > MAX_RATE_T:
        raise ValueError(f"potentials must have at most {MAX_RATE_T} time steps for method='rate', got {x.shape[1]}")
    return x, threshold, method


def validate_first_spike(potentials, threshold=0.0, device: str = "cpu", *, finite: bool = True):
    x = validate_potentials(potentials, device, finite=finite)
    return x, check_float(threshold, "threshold")


# --------------------------------------------------------------------------- inhibit / wta
def validate_inhibit(potentials, threshold=0.0, device: str = "cpu", *, finite: bool = True):
    """-> ``(potentials (B, T, C, H, W), threshold >= 0)``."""
    x = validate_potentials(potentials, device, ndim=5, finite=finite)
    return x, check_float(threshold, "threshold", min_value=0.0)


def _pair_arrays(tmap, spike_potential, device: str):
    t = check_device_array(tmap, "tmap", device, ndim=4, dtypes=(TIME_DTYPE,), min_shape=(1, 1, 1, 1))
    s = check_device_array(spike_potential, "spike_potential", device, ndim=4, dtypes=FLOAT_DTYPES)
    if tuple(s.shape) != tuple(t.shape):
        raise ValueError(f"spike_potential must have the shape of tmap {tuple(t.shape)}, got {tuple(s.shape)}")
    return t, s


def _pair_values(t, s, T: int) -> None:
    if not all_finite(s):
        raise ValueError("spike_potential contains NaN or infinite values")
    check_times(t, "tmap", T)


def validate_spike_pair(tmap, spike_potential, T, device: str = "cpu", *, check_values: bool = True):
    """First-spike pair: ``tmap`` int32 (B, C, H, W) in ``[0, T]``, ``spike_potential``
    float of the same shape and finite; ``T`` required.  -> ``(tmap, spike_potential, T)``.

    ``check_values=False`` skips the value reductions (for a kernel that checks them in its
    own pass and raises the same messages)."""
    t, s = _pair_arrays(tmap, spike_potential, device)
    T = _check_T(T)
    if check_values:
        _pair_values(t, s, T)
    return t, s, T


def validate_conv_wta(potentials, radius, count, threshold=0.0, device: str = "cpu", *, finite: bool = True):
    """-> ``(potentials, (ry, rx), count, threshold)``."""
    x = validate_potentials(potentials, device, ndim=5, finite=finite)
    radius = check_pair(radius, "radius", min_value=0)
    count = check_int(count, "count", min_value=0)
    return x, radius, count, check_float(threshold, "threshold")


def validate_conv_wta_timemap(tmap, spike_potential, radius, count, T, device: str = "cpu", *,
                              check_values: bool = True):
    """-> ``(tmap, spike_potential, (ry, rx), count, T)``."""
    t, s = _pair_arrays(tmap, spike_potential, device)
    radius = check_pair(radius, "radius", min_value=0)
    count = check_int(count, "count", min_value=0)
    T = _check_T(T)
    if check_values:
        _pair_values(t, s, T)
    return t, s, radius, count, T


def validate_fc_wta(potentials, count, threshold=0.0, radius=0, device: str = "cpu", *, finite: bool = True):
    """-> ``(potentials (B, T, N), count, threshold, radius)``."""
    x = validate_potentials(potentials, device, ndim=3, finite=finite)
    count = check_int(count, "count", min_value=0)
    threshold = check_float(threshold, "threshold")
    return x, count, threshold, check_int(radius, "radius", min_value=0)


# --------------------------------------------------------------------------- pool / pad
_PAD_DTYPES = (WAVE_DTYPE, TIME_DTYPE, *FLOAT_DTYPES)


def _pad_value(value, dtype, name: str = "value"):
    value = check_float(value, name)
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if value != int(value) or not info.min <= value <= info.max:
            raise ValueError(f"{name} must be an integer representable as {dtype.name}, got {value}")
        return int(value)
    return value


def validate_pad(x, padding=0, value=0, device: str = "cpu"):
    """-> ``(x, (top, bottom, left, right), value)`` for ``pad``."""
    x = check_device_array(x, "x", device, ndim=(4, 5), dtypes=_PAD_DTYPES, finite=True)
    return x, padding4(padding), _pad_value(value, x.dtype)


def validate_pad_timemap(tmap, padding, T=None, device: str = "cpu"):
    """-> ``(tmap, pads, T)``; ``T`` is required (and the range checked) only when padding."""
    tmap = check_device_array(tmap, "tmap", device, ndim=4, dtypes=(TIME_DTYPE,))
    pads = padding4(padding)
    if not any(pads):
        return tmap, pads, T  # nothing to pad: T is not used (and, as on the CPU, not checked)
    if T is None:
        raise ValueError("T is required to pad a time map (padding positions get time T)")
    T = _check_T(T)
    check_times(tmap, "tmap", T)
    return tmap, pads, T


def validate_pool_timemap(tmap, kernel, stride=None, padding=0, T=None, device: str = "cpu"):
    """-> ``(tmap, (kh, kw), (sh, sw), pads, (OH, OW), T)`` for ``pool_timemap``."""
    tmap = check_device_array(tmap, "tmap", device, ndim=4, dtypes=(TIME_DTYPE,))
    check_times(tmap, "tmap", None)
    kernel, stride, pads, out_hw = _pool_geometry(tmap.shape, kernel, stride, padding)
    tmap, _, T = validate_pad_timemap(tmap, padding, T, device)
    return tmap, kernel, stride, pads, out_hw, T


def validate_max_pool(wave, kernel, stride=None, padding=0, device: str = "cpu"):
    """-> ``(wave, (kh, kw), (sh, sw), pads, (OH, OW))`` for ``max_pool``."""
    wave = check_device_array(wave, "wave", device, ndim=5, dtypes=(WAVE_DTYPE, *FLOAT_DTYPES), finite=True)
    return (wave, *_pool_geometry(wave.shape, kernel, stride, padding))


# --------------------------------------------------------------------------- stdp
def validate_winners(winners, device: str = "cpu"):
    """Winners: int32 ``(n, 5)`` rows ``(batch, feature, time, y, x)`` (no casting)."""
    winners = check_device_array(winners, "winners", device, ndim=2, dtypes=(TIME_DTYPE,))
    if winners.shape[1] != 5:
        raise ValueError(f"winners must have shape (n, 5), got {tuple(winners.shape)}")
    return winners


class StdpInputs(NamedTuple):
    """What :func:`validate_stdp` found: arrays unchanged, geometry normalised."""

    weight: Any  #: (F, C, kh, kw) or (M, N)
    pre: Any  #: the layer input as given (wave or time map)
    winners: Any  #: int32 (n, 5)
    is_wave: bool  #: ``pre`` is a uint8 wave (else an int32 time map)
    t_limit: int | None  #: T of a wave (winner times must be below it), None for a time map
    stride: tuple[int, int]  #: (1, 1) for FC
    pads: tuple[int, int, int, int]  #: (top, bottom, left, right); zeros for FC
    n_features: int  #: F (Conv) or M (FC)


def validate_stdp(layer, pre, winners, device: str = "cpu") -> StdpInputs:
    """Validate an STDP call on a Conv or FC layer (shapes, ranges, winner coordinates)."""
    weight = getattr(layer, "weight", None)
    if not on_device(weight, device):
        raise TypeError(f"layer must have a {_ARRAY_KIND[device]} .weight, got {type(weight).__name__}")
    weight = check_device_array(weight, "layer.weight", device, ndim=(2, 4), dtypes=FLOAT_DTYPES, finite=True)
    if not on_device(pre, device):
        raise TypeError(f"pre must be a {_ARRAY_KIND[device]}, got {type(pre).__name__}")
    winners = validate_winners(winners, device)

    t_limit = None
    if np.dtype(pre.dtype) == WAVE_DTYPE:
        pre = check_device_array(pre, "pre", device, ndim=(3, 5), dtypes=(WAVE_DTYPE,))
        if pre.shape[1] < 1:
            raise ValueError(f"pre must have at least one time step, got shape {tuple(pre.shape)}")
        t_limit = int(pre.shape[1])
        tshape = (pre.shape[0], *pre.shape[2:])  # shape of its time map
    elif np.dtype(pre.dtype) == TIME_DTYPE:
        pre = check_device_array(pre, "pre", device, ndim=(2, 4), dtypes=(TIME_DTYPE,))
        check_times(pre, "pre time map", None)
        tshape = tuple(pre.shape)
    else:
        raise TypeError(f"pre must be a uint8 wave or an int32 time map, got dtype {pre.dtype}")

    if weight.ndim == 4:
        if len(tshape) != 4:
            raise ValueError(f"pre must be (B, T, C, H, W) or (B, C, H, W) for a Conv layer, got shape {tuple(pre.shape)}")
        F, C, kh, kw = weight.shape
        if tshape[1] != C:
            raise ValueError(f"pre has {tshape[1]} channels, layer.weight expects {C}")
        stride = check_pair(getattr(layer, "stride", 1), "layer.stride", min_value=1)
        pads = padding4(getattr(layer, "padding", 0), "layer.padding")
        hp, wp = tshape[2] + pads[0] + pads[1], tshape[3] + pads[2] + pads[3]
        if hp < kh or wp < kw:
            raise ValueError(f"kernel {(kh, kw)} is larger than the padded input {(hp, wp)}")
        out_hw = ((hp - kh) // stride[0] + 1, (wp - kw) // stride[1] + 1)
    else:
        F, N = weight.shape
        n_in = int(np.prod(tshape[1:]))
        if n_in != N:
            raise ValueError(f"pre has {n_in} inputs per sample, layer.weight expects {N}")
        stride, pads, out_hw = (1, 1), (0, 0, 0, 0), (1, 1)

    flags = getattr(weight, "flags", None)
    if flags is not None and not getattr(flags, "writeable", True):
        raise ValueError("layer.weight must be writeable (it is updated in place)")
    if winners.shape[0]:
        lo, hi = winners.min(axis=0), winners.max(axis=0)  # two (5,) reductions
        lo, hi = [int(v) for v in lo.tolist()], [int(v) for v in hi.tolist()]
        for col, label, limit in ((0, "batch", tshape[0]), (1, "feature", F), (3, "y", out_hw[0]), (4, "x", out_hw[1])):
            if lo[col] < 0 or hi[col] >= limit:
                raise ValueError(f"winners {label} values must lie in [0, {limit}), got [{lo[col]}, {hi[col]}]")
        if lo[2] < 0:
            raise ValueError(f"winners time values must be >= 0, got {lo[2]}")
        if t_limit is not None and hi[2] >= t_limit:
            raise ValueError(f"winners time values must be < T={t_limit}, got {hi[2]}")
    return StdpInputs(weight, pre, winners, t_limit is not None, t_limit, stride, pads, int(F))


def validate_config(config, name: str = "config"):
    """An :class:`~workbench.snn.STDPConfig` (its fields are validated on construction)."""
    from ._stdp import STDPConfig  # lazy: _stdp may import this module

    if not isinstance(config, STDPConfig):
        raise TypeError(f"{name} must be an STDPConfig, got {type(config).__name__}")
    return config


def validate_reward(winners, reward, reward_config, punish_config, device: str = "cpu"):
    """-> ``(reward, reward_config, punish_config)``: the R-STDP arguments beyond
    :func:`validate_stdp`'s; one bool flag per winner."""
    reward_config = validate_config(reward_config, "reward_config")
    punish_config = validate_config(punish_config, "punish_config")
    reward = check_device_array(reward, "reward", device, ndim=1, dtypes=(np.bool_,))
    n = winners.shape[0] if on_device(winners, device) and winners.ndim == 2 else None
    if n is not None and reward.shape[0] != n:
        raise ValueError(f"reward must have one flag per winner ({n}), got {reward.shape[0]}")
    return reward, reward_config, punish_config


def validate_rstdp(layer, pre, winners, reward, reward_config, punish_config, device: str = "cpu"):
    """-> ``(StdpInputs, reward, reward_config, punish_config)``; one bool flag per winner."""
    reward, reward_config, punish_config = validate_reward(winners, reward, reward_config, punish_config, device)
    return validate_stdp(layer, pre, winners, device), reward, reward_config, punish_config


def validate_max_potential(tmap, weight, T, padding, active, device: str = "cpu"):
    """-> ``(tmap, weight, T, (py, px), active uint8 (F,))`` for the max-potential decision ops."""
    # The same input as an event-driven stride-1 convolution; only the threshold is absent.
    tmap, weight, _, T, _, padding, _ = validate_conv_fire_timemap(tmap, weight, 0.0, T, 1, padding, device)
    if active is None:
        active = np.ones(weight.shape[0], dtype=np.uint8)
    else:
        active = check_device_array(active, "active", device, ndim=1, dtypes=(np.bool_,))
        if active.shape[0] != weight.shape[0]:
            raise ValueError(f"active must have one flag per feature ({weight.shape[0]}), got {active.shape[0]}")
        # astype keeps the array on its device (np.ascontiguousarray would pull a CuPy array to the host)
        active = active.astype(np.uint8, order="C")
    return tmap, weight, T, padding, active


def validate_decision_labels(labels, feature_class, n_samples: int, n_features: int, reward_config, punish_config,
                             device: str = "cpu"):
    """-> ``(labels int64 (B,), feature_class int64 (F,), reward_config, punish_config)``: the
    learning arguments of :func:`workbench.snn.max_potential_rstdp` (arrays of ``device``)."""
    labels = check_device_array(labels, "labels", device, ndim=1, dtypes=INT_DTYPES)
    feature_class = check_device_array(feature_class, "feature_class", device, ndim=1, dtypes=INT_DTYPES)
    if labels.shape[0] != n_samples:
        raise ValueError(f"labels must have one entry per sample ({n_samples}), got {labels.shape[0]}")
    if feature_class.shape[0] != n_features:
        raise ValueError(f"feature_class must have one entry per feature ({n_features}), got {feature_class.shape[0]}")
    reward_config = validate_config(reward_config, "reward_config")
    punish_config = validate_config(punish_config, "punish_config")
    for attr in ("stabilize", "lower", "upper"):
        if getattr(reward_config, attr) != getattr(punish_config, attr):
            raise ValueError(f"reward_config and punish_config must share {attr}, got "
                             f"{getattr(reward_config, attr)} and {getattr(punish_config, attr)}")
    # astype: C-contiguous int64 on the arrays' own device, copied only when needed
    return (labels.astype(np.int64, order="C", copy=False), feature_class.astype(np.int64, order="C", copy=False),
            reward_config, punish_config)
