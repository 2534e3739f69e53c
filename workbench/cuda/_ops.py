"""GPU implementations of the spiking ops (CuPy arrays in, CuPy arrays out).

Semantics are those of the CPU core in :mod:`workbench.snn` (see each function there).

Validation: every public op first runs the SAME validator as its CPU twin
(:mod:`workbench.snn._checks`, with ``device="cuda"``): ndim, dtype (no casting: int64
winners or float16 potentials are rejected, not converted), shape, value ranges and
finiteness, with the same exception types and messages.  Value checks are device
reductions that bring one scalar to the host.  Only then is CuPy touched; what the GPU
cannot do yet (see "GPU-only limits" in each docstring) raises afterwards, so invalid
input is always reported as invalid input.

Summation order and spike parity
--------------------------------
* ``conv``, ``conv_fire_timemap`` and ``fc`` (dense and event-driven alike) run one
  thread per output neuron that adds the input weights into ONE running potential in the
  CPU kernel's order -- step, then channel, input row, input column (``cuda/conv.cu``,
  ``core_cython/conv.pyx``) -- with plain IEEE additions, and compare with the threshold
  in the weights' precision.  Potentials are therefore bit-identical to the CPU's, and so
  are first-spike times even where a potential lies within rounding of the threshold.
  There is no cuBLAS / GEMM path: the dense ``conv`` uses the same per-neuron loop, so no
  library reorders the sums.
* STDP applies the CPU's expression ``w + a * (w - lower) * (upper - w)`` winner by
  winner, compiled with ``--fmad=false`` (no FMA contraction), so it rounds as the CPU.
* The max-potential decision ops (``cuda/decision.cu``) sum each final potential in the
  CPU's (channel, kernel row, kernel column) order and learn with the CPU's expression
  without FMA, so winners and weights are bit-identical to the CPU's; the argmax keeps the
  first maximum in (feature, y, x) order whatever the split over threads.
* Where the order still differs: ``correlate2d`` / ``filter_bank`` (DoG, LoG, Gabor) sum
  products per output pixel over (channel, row, column), while the CPU filters use
  separable or other loops; their outputs agree only to float rounding (tests: relative
  1e-4), and rank codes of such images can then differ where two intensities are
  within rounding of each other.

What the tests assert: ``tests/cuda/test_conv_order.py`` compiles the conv kernel's
per-neuron functions for the host and checks them bit for bit against the CPU core on
order-sensitive inputs (no GPU needed), ``tests/cuda/test_decision_host.py`` does the same
for the decision kernels; ``tests/cuda/test_cuda_parity.py`` (device only)
checks every op: identical spikes, time maps, winners, conv potentials and STDP weights,
filter outputs to 1e-4; ``tests/cuda/test_gpu_validation.py`` checks that every op
rejects what its CPU twin rejects.

Event-driven kernels work on first-spike time maps and never build (B, T, C, H, W) float
potentials.  Device memory comes from CuPy's pool (plain ``cudaMalloc``), never managed
memory.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .._validation import FLOAT_DTYPES, WAVE_DTYPE, check_array, check_choice, check_float, check_pair
from ..snn import _checks as _v
from ._runtime import cupy_module, gpu_available, kernel, launch

__all__ = [
    "devices",
    "to_device",
    "gather",
    "scatter",
    "rank_code_timemap",
    "rank_code",
    "infinite",
    "correlate2d",
    "conv",
    "conv_fire_timemap",
    "fc",
    "first_spike",
    "fire",
    "threshold",
    "quantize",
    "inhibit",
    "inhibit_timemap",
    "conv_wta",
    "conv_wta_timemap",
    "fc_wta",
    "stdp_update",
    "pool_timemap",
    "pad_timemap",
    "max_pool",
    "pad",
    "stdp",
    "rstdp",
    "filter_bank",
    "infinite_timemap",
    "max_potential_decide",
    "max_potential_rstdp",
]

GPU = "cuda"  # the device every array argument of this module must live on

# The event-driven conv keeps its state in registers whatever T is, but one thread makes a
# pass over its receptive field per distinct input step; the cap keeps a launch's
# worst-case run time bounded (and WB_T a small compile-time constant per module).
MAX_T = 1024


def devices() -> list[dict]:
    """Devices workbench can run on: always the CPU, plus each visible CUDA device.

    Returns
    -------
    list of dict
        ``{"name": "cpu"}`` and, per GPU, ``{"name": "cuda:i", "model": str,
        "memory_bytes": int, "compute_capability": str}``.
    """
    found = [{"name": "cpu"}]
    if gpu_available():
        cp = cupy_module()
        for i in range(cp.cuda.runtime.getDeviceCount()):
            props = cp.cuda.runtime.getDeviceProperties(i)
            found.append(
                {
                    "name": f"cuda:{i}",
                    "model": props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"]),
                    "memory_bytes": int(props["totalGlobalMem"]),
                    "compute_capability": f"{props['major']}.{props['minor']}",
                }
            )
    return found


def to_device(x, device: str):
    """Copy an array to ``"cpu"`` (NumPy) or ``"cuda"`` (CuPy)."""
    if device == "cpu":
        return cupy_module().asnumpy(x) if _v.on_device(x, GPU) else x
    if isinstance(device, str) and device.startswith("cuda"):
        return cupy_module().asarray(x)
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


# ---------------------------------------------------------------- helpers (after validation)
def _contig(x):
    return cupy_module().ascontiguousarray(x)


def _gpu_steps(T: int, what: str = "T") -> int:
    # GPU-only limit, checked after the shared validation.
    if T > MAX_T:
        raise ValueError(f"{what} must be <= {MAX_T} on the GPU (event-driven conv), got {T}")
    return T


def _require_cumulative(wave, name: str = "wave") -> None:
    """GPU-only limit: the GPU conv and max_pool work on first-spike times, so the wave must
    be a cumulative 0/1 wave (count waves from rate coding take the CPU's per-step path)."""
    if wave.size and (int(wave.max()) > 1 or bool((wave[:, 1:] < wave[:, :-1]).any())):
        raise NotImplementedError(
            f"{name} is not a cumulative 0/1 wave (e.g. a rate-code count wave); the GPU handles "
            "cumulative waves only -- use NumPy input for count waves"
        )


# ---------------------------------------------------------------- coding
def _gather(wave):
    cp = cupy_module()
    wave = _contig(wave)
    B, T = wave.shape[:2]
    n = int(np.prod(wave.shape[2:]))
    out = cp.empty((B,) + wave.shape[2:], dtype=cp.int32)
    launch(kernel("coding", "wb_gather"), B * n, (wave, out, np.int32(B), np.int32(T), np.int64(n)))
    return out


def _scatter(tmap, T: int):
    cp = cupy_module()
    tmap = _contig(tmap)
    B = tmap.shape[0]
    n = int(np.prod(tmap.shape[1:]))
    out = cp.empty((B, T) + tmap.shape[1:], dtype=cp.uint8)
    launch(kernel("coding", "wb_scatter"), B * T * n, (tmap, out, np.int32(B), np.int32(T), np.int64(n)))
    return out


def gather(wave):
    """(B, T, ...) uint8 wave -> (B, ...) int32 first non-zero step (T = never)."""
    return _gather(_v.validate_gather(wave, GPU))


def scatter(tmap, T: int):
    """(B, ...) int32 time map in [0, T] -> (B, T, ...) uint8 cumulative wave."""
    tmap, T = _v.validate_scatter(tmap, T, GPU)
    return _scatter(tmap, T)


def rank_code_timemap(images, T: int, sort: bool = True):
    """Rank-order coding to a time map: values above the sample minimum ranked descending,
    rank r -> step trunc(r * ((T + 1e-5) / n_active)) in float32 (the CPU core's arithmetic);
    equal values keep their flat-index order.

    GPU-only limits: ``sort=False`` (linear latency) has no kernel (NotImplementedError).
    """
    images, T, sort = _v.validate_rank_code_timemap(images, T, sort, GPU)
    if not sort:
        raise NotImplementedError("linear latency coding (sort=False) has no GPU kernel yet; use NumPy input")
    cp = cupy_module()
    B = images.shape[0]
    flat = _contig(images).reshape(B, -1)
    n = flat.shape[1]
    n_active = (flat > flat.min(axis=1, keepdims=True)).sum(axis=1).astype(cp.int32)
    order = cp.argsort(-flat, axis=1).astype(cp.int64)  # CuPy's sort is stable
    out = cp.empty((B, n), dtype=cp.int32)
    launch(kernel("coding", "wb_rank_times"), B * n, (order, n_active, out, np.int32(B), np.int32(T), np.int64(n)))
    return out.reshape(images.shape)


def rank_code(images, T: int, sort: bool = True):
    """Rank-order coding to a cumulative wave (B, T, C, H, W)."""
    return _scatter(rank_code_timemap(images, T, sort), T)


def infinite(wave):
    """Copy of a wave whose last step fires every neuron that had not fired (CPU semantics)."""
    out = _v.validate_infinite(wave, GPU).copy()
    last = out[:, -1]
    last[last == 0] = 1
    return out


def infinite_timemap(tmap, T: int):
    """Neurons that never fired fire at the last step (on a time map (B, ...), in a copy)."""
    tmap, T = _v.validate_scatter(tmap, T, GPU)
    out = tmap.copy()  # C-contiguous copy
    launch(kernel("coding", "wb_infinite"), out.size, (out, np.int32(T), np.int64(out.size)))
    return out


# ---------------------------------------------------------------- filters
def _correlate2d(images, bank, py: int, px: int):
    cp = cupy_module()
    images, bank = _contig(images), _contig(bank.astype(images.dtype, copy=False))
    B, C, H, W = images.shape
    F, _, KH, KW = bank.shape
    OH, OW = H + 2 * py - KH + 1, W + 2 * px - KW + 1
    out = cp.empty((B, F, OH, OW), dtype=images.dtype)
    args = (images, bank, out, *map(np.int32, (B, C, H, W, F, KH, KW, py, px, OH, OW)))
    launch(kernel("filters", "wb_correlate2d", images.dtype), out.size, args)
    return out


def correlate2d(images, bank, padding=0):
    """Cross-correlate images (B, C, H, W) with a filter bank (F, C, KH, KW), zero padding.

    Float rounding differs from the CPU filters (which run separable or float64 paths).
    """
    images = _v.validate_images(images, GPU)
    bank = _v.validate_weight(bank, GPU, name="bank")
    if bank.shape[1] != images.shape[1]:
        raise ValueError(f"bank has {bank.shape[1]} input channel(s) but images has {images.shape[1]}")
    py, px = check_pair(padding, "padding")
    H, W = images.shape[2:]
    KH, KW = bank.shape[2:]
    if KH > H + 2 * py or KW > W + 2 * px:
        raise ValueError(f"bank kernels ({KH}, {KW}) are larger than the padded images ({H + 2 * py}, {W + 2 * px})")
    return _correlate2d(images, bank, py, px)


def filter_bank(kernels, images, pad_widths, mode: str):
    """Apply a filter bank on the GPU.

    Parameters
    ----------
    kernels : numpy.ndarray (F, k, k)
        Correlation kernels (for DoG/LoG: the centre minus the surround Gaussian).
    images : cupy.ndarray (B, C, H, W)
    pad_widths : (top, left, bottom, right)
    mode : {"on", "onoff", "none"}
        ``"on"``: rectified (DoG); ``"onoff"``: on then off channels per input channel
        (LoG); ``"none"``: plain correlation (Gabor).
    """
    images = _v.validate_images(images, GPU)
    kernels = check_array(np.asarray(kernels), "kernels", ndim=3, dtypes=FLOAT_DTYPES, finite=True,
                          min_shape=(1, 1, 1))
    mode = check_choice(mode, "mode", ("on", "onoff", "none"))
    top, bottom, left, right = _v.padding4(tuple(pad_widths), "pad_widths")
    k = kernels.shape[1]
    if k > images.shape[2] + top + bottom or kernels.shape[2] > images.shape[3] + left + right:
        raise ValueError(f"images (padded) are smaller than the {k}x{kernels.shape[2]} kernel")
    cp = cupy_module()
    x = _pad_array(images, (top, bottom, left, right), 0)
    B, C, H, W = x.shape
    bank = cp.asarray(kernels[:, None], dtype=images.dtype)
    out = _correlate2d(x.reshape(B * C, 1, H, W), bank, 0, 0)  # (B*C, F, H', W')
    if mode == "on":
        out = cp.maximum(out, 0)
    elif mode == "onoff":
        out = cp.concatenate([cp.maximum(out, 0), cp.maximum(-out, 0)], axis=1)
    return out.reshape(B, -1, *out.shape[-2:])


# ---------------------------------------------------------------- conv / fc
def _conv_args(tmap, weight, stride, padding, out_hw):
    B, C, H, W = tmap.shape
    F, _, KH, KW = weight.shape
    return tuple(map(np.int32, (B, C, H, W, F, KH, KW, *stride, *padding, *out_hw)))


def _conv_dense(wave, weight, stride, padding, out_hw):
    cp = cupy_module()
    T = wave.shape[1]
    tmap = _gather(wave)
    weight = _contig(weight)
    B, F = tmap.shape[0], weight.shape[0]
    out = cp.empty((B, T, F, *out_hw), dtype=weight.dtype)
    args = (tmap, weight, out, *_conv_args(tmap, weight, stride, padding, out_hw))
    launch(kernel("conv", "wb_conv_dense", weight.dtype, T), B * F * out_hw[0] * out_hw[1], args)
    return out


def conv(wave, weight, stride=1, padding=0):
    """Per-step potentials (B, T, F, OH, OW) of a cumulative wave (B, T, C, H, W).

    Potentials are bit-identical to the CPU core's (same summation order, ``cuda/conv.cu``).
    GPU-only limits: ``T <= 1024``; count or non-cumulative waves raise NotImplementedError.
    """
    wave, weight, stride, padding, out_hw = _v.validate_conv(wave, weight, stride, padding, GPU)
    _gpu_steps(wave.shape[1], "wave's T")
    _require_cumulative(wave)
    return _conv_dense(wave, weight, stride, padding, out_hw)


def conv_fire_timemap(tmap, weight, threshold: float, T: int, stride=1, padding=0):
    """Event-driven conv + fire: (out_tmap (B, F, OH, OW) int32, potential at first spike).

    Same first-spike times and potentials as the CPU core, bit for bit: each output
    neuron's potential is one running sum in the CPU's (step, channel, row, column) order
    and the threshold is compared in the weights' precision (``cuda/conv.cu``).
    GPU-only limit: ``T <= 1024``.
    """
    tmap, weight, threshold, T, stride, padding, out_hw = _v.validate_conv_fire_timemap(
        tmap, weight, threshold, T, stride, padding, GPU)
    _gpu_steps(T)
    cp = cupy_module()
    tmap, weight = _contig(tmap), _contig(weight)
    B, F = tmap.shape[0], weight.shape[0]
    out_t = cp.empty((B, F, *out_hw), dtype=cp.int32)
    out_v = cp.empty((B, F, *out_hw), dtype=weight.dtype)
    args = (tmap, weight, out_t, out_v, weight.dtype.type(threshold), *_conv_args(tmap, weight, stride, padding, out_hw))
    launch(kernel("conv", "wb_conv_fire", weight.dtype, T), out_t.size, args)
    return out_t, out_v


def fc(wave, weight, sign: bool = False):
    """Per-step potentials (B, T, M) of a wave (B, T, N) (or (B, T, C, H, W), flattened).

    Runs the conv kernel with N channels of 1x1, which adds the inputs in ascending ``n``
    as the CPU's fc does, so potentials are bit-identical.  GPU-only limits as :func:`conv`.
    """
    wave, weight, sign, n = _v.validate_fc(wave, weight, sign, GPU)
    _gpu_steps(wave.shape[1], "wave's T")
    _require_cumulative(wave)
    cp = cupy_module()
    B, T = wave.shape[:2]
    M = weight.shape[0]
    if sign:
        weight = cp.sign(weight)
    flat = _contig(wave).reshape(B, T, n, 1, 1)
    pot = _conv_dense(flat, _contig(weight).reshape(M, n, 1, 1), (1, 1), (0, 0), (1, 1))
    return pot.reshape(B, T, M)


# ---------------------------------------------------------------- fire
def _first_spike(pot, th: float, wave=None):
    cp = cupy_module()
    pot = _contig(pot)
    B, T = pot.shape[:2]
    n = int(np.prod(pot.shape[2:]))
    tmap = cp.empty((B,) + pot.shape[2:], dtype=cp.int32)
    spk = cp.empty((B,) + pot.shape[2:], dtype=pot.dtype)
    wave_arg = np.uintp(0) if wave is None else wave
    args = (pot, tmap, spk, wave_arg, pot.dtype.type(th), np.int32(B), np.int32(T), np.int64(n))
    launch(kernel("fire", "wb_first_spike", pot.dtype), B * n, args)
    return tmap, spk


def first_spike(potentials, threshold: float = 0.0):
    """(tmap, spike potential) of per-step potentials (B, T, ...)."""
    pot, th = _v.validate_first_spike(potentials, threshold, GPU)
    return _first_spike(pot, th)


def fire(potentials, threshold: float = 0.0, method: str = "rank"):
    """Spike-wave (B, T, ...) uint8 from potentials: cumulative rank firing or rate (counts)."""
    pot, th, method = _v.validate_fire(potentials, threshold, method, GPU)
    cp = cupy_module()
    pot = _contig(pot)
    B, T = pot.shape[:2]
    n = int(np.prod(pot.shape[2:]))
    wave = cp.empty(pot.shape, dtype=cp.uint8)
    if method == "rank":
        _first_spike(pot, th, wave)
    else:
        args = (pot, wave, pot.dtype.type(th), np.int32(B), np.int32(T), np.int64(n))
        launch(kernel("fire", "wb_fire_rate", pot.dtype), B * n, args)
    return wave


def threshold(potentials, threshold: float, value: float = 0.0):
    """Copy of ``potentials`` with entries <= threshold replaced by ``value``."""
    x, th, val = _v.validate_threshold(potentials, threshold, value, GPU)
    out = x.copy()  # C-contiguous
    t = out.dtype.type
    launch(kernel("fire", "wb_threshold", out.dtype), out.size, (out, t(th), t(val), np.int64(out.size)))
    return out


def quantize(x, lower: float, middle: float, upper: float):
    """Copy of ``x`` with entries < middle set to lower, others to upper."""
    x, lo, mid, up = _v.validate_quantize(x, lower, middle, upper, GPU)
    out = x.copy()
    t = out.dtype.type
    launch(kernel("fire", "wb_quantize", out.dtype), out.size, (out, t(lo), t(mid), t(up), np.int64(out.size)))
    return out


# ---------------------------------------------------------------- inhibit
def _inhibit_winner(tmap, spike_pot, T):
    cp = cupy_module()
    B, C, H, W = tmap.shape
    winner = cp.empty((B, H * W), dtype=cp.int32)
    args = (tmap, spike_pot, winner, np.int32(B), np.int32(C), np.int64(H * W), np.int32(T))
    launch(kernel("inhibit", "wb_inhibit_winner", spike_pot.dtype), B * H * W, args)
    return winner


def inhibit_timemap(tmap, spike_potential, T: int):
    """Event-driven pointwise inhibition: losers become never-fired (time T, potential 0)."""
    tmap, spk, T = _v.validate_spike_pair(tmap, spike_potential, T, GPU)
    tmap, spk = tmap.copy(), spk.copy()  # C-contiguous copies, updated below
    B, C, H, W = tmap.shape
    winner = _inhibit_winner(tmap, spk, T)
    args = (tmap, spk, winner, np.int32(B), np.int32(C), np.int64(H * W), np.int32(T))
    launch(kernel("inhibit", "wb_inhibit_timemap", spk.dtype), tmap.size, args)
    return tmap, spk


def inhibit(potentials, threshold: float = 0.0):
    """Dense pointwise inhibition on potentials (B, T, C, H, W) (a copy)."""
    pot, th = _v.validate_inhibit(potentials, threshold, GPU)
    pot = pot.copy()
    B, T, C, H, W = pot.shape
    tmap, spk = _first_spike(pot, th)
    winner = _inhibit_winner(tmap, spk, T)
    args = (pot, winner, np.int32(B), np.int32(T), np.int32(C), np.int64(H * W))
    launch(kernel("inhibit", "wb_inhibit_dense", pot.dtype), pot.size, args)
    return pot


# ---------------------------------------------------------------- k-WTA
def _conv_wta(tmap, spk, radius, count: int, T: int):
    cp = cupy_module()
    B, C, H, W = tmap.shape
    count = min(count, C)  # a feature wins at most once (its whole map is then excluded)
    if count == 0:
        return cp.empty((0, 5), dtype=cp.int32)
    tmap, spk = _contig(tmap), _contig(spk)
    ry, rx = min(radius[0], H), min(radius[1], W)  # as the CPU: keeps the int32 maths safe
    excluded = cp.zeros(tmap.shape, dtype=cp.uint8)
    rows = cp.empty((B, count, 5), dtype=cp.int32)
    args = (tmap, spk, excluded, rows, *map(np.int32, (C, H, W, T, ry, rx, count)))
    kernel("wta", "wb_conv_wta", spk.dtype)((B,), (256,), args)
    rows = rows.reshape(-1, 5)
    return cp.ascontiguousarray(rows[rows[:, 0] >= 0])


def conv_wta_timemap(tmap, spike_potential, radius, count: int, T: int):
    """Winners (n, 5) int32 rows (batch, feature, time, y, x) from a time map pair."""
    tmap, spk, radius, count, T = _v.validate_conv_wta_timemap(tmap, spike_potential, radius, count, T, GPU)
    return _conv_wta(tmap, spk, radius, count, T)


def conv_wta(potentials, radius, count: int, threshold: float = 0.0):
    """Winners from dense potentials (B, T, C, H, W)."""
    pot, radius, count, th = _v.validate_conv_wta(potentials, radius, count, threshold, GPU)
    tmap, spk = _first_spike(pot, th)
    return _conv_wta(tmap, spk, radius, count, pot.shape[1])


def fc_wta(potentials, count: int, threshold: float = 0.0, radius: int = 0):
    """Winners (n, 5) from FC potentials (B, T, N): rows (batch, neuron, time, 0, 0).

    GPU-only limit: ``radius > 0`` has no kernel (NotImplementedError).
    """
    pot, count, th, radius = _v.validate_fc_wta(potentials, count, threshold, radius, GPU)
    if radius:
        raise NotImplementedError("fc_wta with radius > 0 has no GPU kernel yet; use NumPy input")
    B, T, N = pot.shape
    tmap, spk = _first_spike(pot.reshape(B, T, N, 1, 1), th)
    return _conv_wta(tmap, spk, (0, 0), count, T)


# ---------------------------------------------------------------- STDP
def _stdp_launch(weight, tmap, winners, a_plus, a_minus, stabilize, lower, upper, stride, top_left):
    """weight (F, C, KH, KW) updated in place from tmap (B, C, H, W); a_plus/a_minus per winner."""
    cp = cupy_module()
    n = int(winners.shape[0])
    if n == 0:
        return
    F, C, KH, KW = weight.shape
    _, _, H, W = tmap.shape
    dt = weight.dtype
    ap = cp.ascontiguousarray(cp.asarray(a_plus, dtype=dt).reshape(-1))
    am = cp.ascontiguousarray(cp.asarray(a_minus, dtype=dt).reshape(-1))
    if ap.size == 1:
        ap, am = cp.full(n, ap.item(), dt), cp.full(n, am.item(), dt)
    t = dt.type
    args = (weight, _contig(tmap), _contig(winners), ap, am, np.int32(n), np.int32(bool(stabilize)), t(lower),
            t(upper), *map(np.int32, (F, C, H, W, KH, KW, *stride, *top_left)))
    launch(kernel("stdp", "wb_stdp", dt), weight.size, args)


def _require_inplace(weight, name: str) -> None:
    # GPU-only limit: the kernel updates the buffer itself (no copy-back of strided views).
    if not weight.flags.c_contiguous:
        raise TypeError(f"{name} must be C-contiguous on the GPU (it is updated in place)")


def _layer_stdp(inputs: _v.StdpInputs, a_plus, a_minus, config) -> None:
    weight = inputs.weight
    tmap = _gather(inputs.pre) if inputs.is_wave else inputs.pre
    if weight.ndim == 2:  # FC: N channels of 1x1
        M, N = weight.shape
        weight4, tmap = weight.reshape(M, N, 1, 1), tmap.reshape(tmap.shape[0], N, 1, 1)
    else:
        weight4 = weight
    top, _, left, _ = inputs.pads  # bottom/right padding only bounds the winners' (y, x)
    _stdp_launch(weight4, tmap, inputs.winners, a_plus, a_minus, config.stabilize, config.lower, config.upper,
                 inputs.stride, (top, left))


def stdp(layer, pre, winners, config) -> None:
    """STDP on a Conv or FC layer whose weights live on the GPU (see workbench.snn.stdp).

    GPU-only limit: ``layer.weight`` must be C-contiguous (TypeError otherwise).
    """
    config = _v.validate_config(config, "config")
    inputs = _v.validate_stdp(layer, pre, winners, GPU)
    _require_inplace(inputs.weight, "layer.weight")
    _layer_stdp(inputs, config.a_plus, config.a_minus, config)


def rstdp(layer, pre, winners, reward, reward_config, punish_config) -> None:
    """R-STDP: per-winner reward or punishment rates (see workbench.snn.rstdp).

    GPU-only limits: ``layer.weight`` C-contiguous; both configs must share ``stabilize``,
    ``lower`` and ``upper`` (NotImplementedError otherwise).
    """
    inputs, reward, rc, pc = _v.validate_rstdp(layer, pre, winners, reward, reward_config, punish_config, GPU)
    _require_inplace(inputs.weight, "layer.weight")
    if (rc.stabilize, rc.lower, rc.upper) != (pc.stabilize, pc.lower, pc.upper):
        raise NotImplementedError("GPU R-STDP needs the same bounds and stabiliser in both configs")
    cp = cupy_module()
    dt = inputs.weight.dtype
    a_plus = cp.where(reward, dt.type(rc.a_plus), dt.type(pc.a_plus)).astype(dt)
    a_minus = cp.where(reward, dt.type(rc.a_minus), dt.type(pc.a_minus)).astype(dt)
    _layer_stdp(inputs, a_plus, a_minus, rc)


def stdp_update(weight, pre_tmap, winners, a_plus, a_minus, *, stabilize=True, lower=0.0, upper=1.0, stride=1,
                padding=0):
    """In-place STDP on ``weight`` (F, C, KH, KW) from winners (n, 5) and the presynaptic
    time map (B, C, H, W); ``a_plus`` / ``a_minus`` are scalars or per-winner arrays (R-STDP).

    Validated as :func:`workbench.snn.stdp` validates a Conv layer with this weight,
    stride and padding; ``weight`` must be C-contiguous (it is updated in place).
    """
    stabilize = _v._check_bool(stabilize, "stabilize")
    lower, upper = check_float(lower, "lower"), check_float(upper, "upper")
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
    layer = SimpleNamespace(weight=weight, stride=stride, padding=padding)
    inputs = _v.validate_stdp(layer, pre_tmap, winners, GPU)
    if inputs.weight.ndim != 4 or inputs.is_wave:
        raise ValueError("stdp_update takes a (F, C, KH, KW) weight and an int32 (B, C, H, W) time map")
    _require_inplace(inputs.weight, "weight")
    n = int(inputs.winners.shape[0])
    rates = []
    for value, name in ((a_plus, "a_plus"), (a_minus, "a_minus")):
        if _v.on_device(value, GPU) or isinstance(value, np.ndarray):
            arr = value.reshape(-1)
            if arr.size not in (1, n) or np.dtype(arr.dtype).kind != "f" or not _v.all_finite(arr):
                raise ValueError(f"{name} must be a finite scalar or hold one finite rate per winner ({n})")
            rates.append(arr)
        else:
            rates.append(check_float(value, name))
    ap, am = rates
    if np.size(ap) != np.size(am):
        raise ValueError(f"a_plus and a_minus must be scalars or hold one rate per winner ({n})")
    config = SimpleNamespace(stabilize=stabilize, lower=lower, upper=upper)
    _layer_stdp(inputs, ap, am, config)
    return weight


# ---------------------------------------------------------------- decision (max potential)
# Threads per block of the decision kernels (powers of two: tree reduction).  Deciding runs
# one block per sample; learning is online, so ONE block walks the samples in order and
# gets as many threads as a block may have (the kernel is built with launch bounds 1024).
DECIDE_THREADS = 256
RSTDP_THREADS = 1024
# Dynamic shared memory a block may use without an opt-in (cudaFuncSetAttribute), on every
# device since compute capability 2.0.
SHARED_BYTES = 48 * 1024


def _decision_geometry(tmap, weight, padding, threads: int):
    """-> ``(C, H, W, KH, KW, F, OH, OW, shared_bytes)``; GPU-only limits checked after validation.

    A block keeps the sample's fired flags (``C * H * W`` bytes) and its reduction arrays
    (``threads`` potentials and indices) in shared memory; the potentials themselves stay in
    registers (each thread keeps only its best), so ``F * OH * OW`` is not bounded by it.
    """
    _, C, H, W = tmap.shape
    F, _, KH, KW = weight.shape
    OH, OW = H + 2 * padding[0] - KH + 1, W + 2 * padding[1] - KW + 1
    reduction = threads * (np.dtype(weight.dtype).itemsize + 4)
    shared = reduction + C * H * W
    if shared > SHARED_BYTES:
        raise ValueError(
            f"the fired flags of one sample (C * H * W = {C}*{H}*{W} = {C * H * W} bytes) do not fit in the GPU "
            f"block's shared memory ({SHARED_BYTES - reduction} bytes left of {SHARED_BYTES} beside the "
            f"reduction arrays); use NumPy input for inputs this large"
        )
    if F * OH * OW > np.iinfo(np.int32).max:
        raise ValueError(f"F * OH * OW = {F * OH * OW} decision neurons exceed the GPU kernels' int32 index")
    return C, H, W, KH, KW, F, OH, OW, shared


def _decision_inputs(tmap, weight, active):
    # (C, KH, KW, F) weights as on the CPU: a warp's threads read consecutive features
    cp = cupy_module()
    work = cp.ascontiguousarray(weight.transpose(1, 2, 3, 0))
    return work, _contig(tmap), cp.ascontiguousarray(cp.asarray(active, dtype=cp.uint8))


def max_potential_decide(tmap, weight, T: int, padding=0, active=None):
    """Winner of each sample: the (feature, position) with the largest final potential.

    Same contract and result as :func:`workbench.snn.max_potential_decide` (CuPy arrays;
    ``active`` a CuPy bool array or None): rows ``(feature, y, x)`` int32 (B, 3), feature
    -1 where no active neuron has a positive potential, ties to the first in (feature, y, x)
    order.  Potentials are summed in the CPU's order (``cuda/decision.cu``), so winners are
    identical whatever the weights.

    GPU-only limit: one sample's fired flags (``C * H * W`` bytes) must fit in a block's
    shared memory beside the reduction arrays: ``C * H * W <= 47104`` for float32, 46080 for
    float64 (ValueError otherwise; Mozafari 2019's layer needs 250 * 4 * 4 = 4000).
    """
    tmap, weight, T, padding, active = _v.validate_max_potential(tmap, weight, T, padding, active, GPU)
    C, H, W, KH, KW, F, OH, OW, shared = _decision_geometry(tmap, weight, padding, DECIDE_THREADS)
    cp = cupy_module()
    work, tmap, active = _decision_inputs(tmap, weight, active)
    B = tmap.shape[0]
    out = cp.empty((B, 3), dtype=cp.int32)
    args = (work, tmap, active, out, *map(np.int32, (T, C, H, W, KH, KW, F, *padding, OH, OW)))
    kernel("decision", "wb_max_potential_decide", weight.dtype)((B,), (DECIDE_THREADS,), args, shared_mem=shared)
    return out


def max_potential_rstdp(tmap, weight, T: int, labels, feature_class, reward_config, punish_config, padding=0,
                        active=None):
    """Decide and learn online, sample by sample; ``weight`` (F, C, kh, kw) updated in place.

    Same contract and result as :func:`workbench.snn.max_potential_rstdp` (CuPy arrays:
    ``tmap``, ``weight``, ``labels``, ``feature_class`` and ``active``): each sample is
    decided with the weights the previous samples left, its winner rewarded when
    ``feature_class[feature] == labels[b]`` and punished otherwise.  One block of threads
    runs the whole sequence in one launch; the update is the CPU's expression without FMA
    contraction, so weights match the CPU's bit for bit.

    GPU-only limit: as :func:`max_potential_decide`, with 1024 threads' reduction arrays:
    ``C * H * W <= 40960`` for float32, 36864 for float64 (ValueError otherwise).
    """
    tmap, weight, T, padding, active = _v.validate_max_potential(tmap, weight, T, padding, active, GPU)
    labels, feature_class, rc, pc = _v.validate_decision_labels(
        labels, feature_class, tmap.shape[0], weight.shape[0], reward_config, punish_config, GPU)
    # CuPy arrays have no writeable flag; read-only device views exist only as NumPy-backed stand-ins
    if not getattr(weight.flags, "writeable", True):
        raise ValueError("weight must be writeable (it is updated in place)")
    C, H, W, KH, KW, F, OH, OW, shared = _decision_geometry(tmap, weight, padding, RSTDP_THREADS)
    cp = cupy_module()
    work, tmap, active = _decision_inputs(tmap, weight, active)
    B = tmap.shape[0]
    out = cp.empty((B, 3), dtype=cp.int32)
    t = np.dtype(weight.dtype).type
    args = (work, tmap, active, _contig(feature_class), _contig(labels), out,
            *map(np.int32, (B, T, C, H, W, KH, KW, F, *padding, OH, OW)),
            t(rc.a_plus), t(rc.a_minus), t(pc.a_plus), t(pc.a_minus), t(rc.lower), t(rc.upper),
            np.int32(bool(rc.stabilize)))
    kernel("decision", "wb_max_potential_rstdp", weight.dtype)((1,), (RSTDP_THREADS,), args, shared_mem=shared)
    weight[...] = work.transpose(3, 0, 1, 2)
    return out


# ---------------------------------------------------------------- pool / pad
def _pad_array(x, pads, value):
    """Constant padding of the last two axes; pads (top, bottom, left, right)."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return cupy_module().pad(x, widths, mode="constant", constant_values=value)


def _pad_timemap(tmap, pads, T: int):
    top, bottom, left, right = pads
    if not any(pads):
        return tmap
    cp = cupy_module()
    tmap = _contig(tmap)
    B, C, H, W = tmap.shape
    OH, OW = H + top + bottom, W + left + right
    out = cp.empty((B, C, OH, OW), dtype=cp.int32)
    args = (tmap, out, *map(np.int32, (B * C, H, W, top, left, OH, OW, T)))
    launch(kernel("pool", "wb_pad_timemap"), out.size, args)
    return out


def _pool_timemap(tmap, kernel_hw, stride, out_hw):
    cp = cupy_module()
    tmap = _contig(tmap)
    B, C, H, W = tmap.shape
    out = cp.empty((B, C, *out_hw), dtype=cp.int32)
    # Padding is explicit in tmap already, so every window holds at least one input.  The
    # kernel's last argument is its running minimum's start value: it must exceed every
    # time (passing 0 here would make every output 0).
    start = np.iinfo(np.int32).max
    args = (tmap, out, *map(np.int32, (B * C, H, W, *kernel_hw, *stride, 0, 0, *out_hw, start)))
    launch(kernel("pool", "wb_pool_timemap"), out.size, args)
    return out


def pad_timemap(tmap, padding, T: int | None = None):
    """Pad a time map with never-firing (time T) neurons; padding int, (y, x) or 4 ints."""
    tmap, pads, T = _v.validate_pad_timemap(tmap, padding, T, GPU)
    return _pad_timemap(tmap, pads, T)


def pool_timemap(tmap, kernel, stride=None, padding=0, T: int | None = None):
    """Max pooling of a cumulative wave, on its time map: minimum time per window."""
    tmap, kernel_hw, stride_hw, pads, out_hw, T = _v.validate_pool_timemap(tmap, kernel, stride, padding, T, GPU)
    return _pool_timemap(_pad_timemap(tmap, pads, T), kernel_hw, stride_hw, out_hw)


def max_pool(wave, kernel, stride=None, padding=0):
    """Max pooling of a cumulative 0/1 wave (B, T, C, H, W): earliest spike wins.

    GPU-only limits: float waves and count / non-cumulative waves raise NotImplementedError.
    """
    wave, kernel_hw, stride_hw, pads, out_hw = _v.validate_max_pool(wave, kernel, stride, padding, GPU)
    if np.dtype(wave.dtype) != WAVE_DTYPE:
        raise NotImplementedError("max_pool of float values has no GPU kernel yet; use NumPy input")
    _require_cumulative(wave)
    T = wave.shape[1]
    # zero padding of a wave never fires: time T on the time map
    tmap = _pad_timemap(_gather(wave), pads, T)
    return _scatter(_pool_timemap(tmap, kernel_hw, stride_hw, out_hw), T)


def pad(x, padding=0, value=0):
    """Pad the last two axes: int, (y, x) or (top, left, bottom, right), constant ``value``."""
    x, pads, value = _v.validate_pad(x, padding, value, GPU)
    return _pad_array(x, pads, value)

