"""GPU implementations of the spiking ops (CuPy arrays in, CuPy arrays out).

Semantics are those of the CPU core in :mod:`workbench.snn` (see each function there);
these functions validate lightly (device, dtype, shape) and launch ``cuda/*.cu`` kernels.
Event-driven kernels work on first-spike time maps and never build (B, T, C, H, W) float
potentials.  Device memory comes from CuPy's pool (plain ``cudaMalloc``), never managed memory.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_pair
from ._runtime import cupy_module, gpu_available, is_cupy_array, kernel, launch

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
]


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
        return cupy_module().asnumpy(x) if is_cupy_array(x) else x
    if device.startswith("cuda"):
        return cupy_module().asarray(x)
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


def _require_gpu(x, name: str):
    if not is_cupy_array(x):
        raise TypeError(f"{name} must be a cupy.ndarray on the GPU, got {type(x).__name__}")
    return cupy_module().ascontiguousarray(x)


def _out_size(size: int, kernel_size: int, stride: int, pad_before: int, pad_after: int) -> int:
    return (size + pad_before + pad_after - kernel_size) // stride + 1


# The event-driven conv keeps a T-bin histogram per thread (local memory); beyond this the
# stack frame grows past what a launch can sustain.
MAX_T = 1024


def _check_steps(T: int) -> int:
    if not 1 <= int(T) <= MAX_T:
        raise ValueError(f"T must be in [1, {MAX_T}] on the GPU, got {T}")
    return int(T)


def _check_wave(wave, name: str = "wave"):
    cp = cupy_module()
    wave = _require_gpu(wave, name)
    if wave.dtype != cp.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {wave.dtype}")
    return wave


def _check_cumulative(wave, name: str = "wave") -> None:
    # The GPU conv works on first-spike times; count waves (rate coding) need the CPU's
    # per-step path.
    if wave.size and (int(wave.max()) > 1 or bool((wave[:, 1:] < wave[:, :-1]).any())):
        raise NotImplementedError(
            f"{name} is not a cumulative 0/1 wave (e.g. a rate-code count wave); the GPU conv handles "
            "cumulative waves only -- use NumPy input for count waves"
        )


def _check_timemap(tmap, name: str, T: int | None):
    cp = cupy_module()
    tmap = _require_gpu(tmap, name)
    if tmap.dtype != cp.int32:
        raise TypeError(f"{name} must have dtype int32, got {tmap.dtype}")
    if tmap.size:
        lo, hi = int(tmap.min()), int(tmap.max())
        if lo < 0 or (T is not None and hi > T):
            raise ValueError(f"{name} values must lie in [0, T={T}], got [{lo}, {hi}]")
    return tmap


def _check_pair_like(spike_potential, tmap, name: str = "spike_potential"):
    spike_potential = _require_gpu(spike_potential, name)
    if spike_potential.shape != tmap.shape:
        raise ValueError(f"{name} must have the shape of tmap {tmap.shape}, got {spike_potential.shape}")
    if spike_potential.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {spike_potential.dtype}")
    return spike_potential


def _padding4(padding, name: str = "padding") -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from an int, a (y, x) pair or a 4-tuple, as the CPU core."""
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        values = tuple(int(v) for v in padding)
        if min(values) < 0:
            raise ValueError(f"{name} must be >= 0, got {padding!r}")
        return values  # type: ignore[return-value]
    py, px = check_pair(padding, name)
    return py, px, py, px


# ---------------------------------------------------------------- coding
def gather(wave):
    """(B, T, ...) uint8 cumulative wave -> (B, ...) int32 first-spike times (T = never)."""
    cp = cupy_module()
    wave = _check_wave(wave)
    B, T = wave.shape[:2]
    n = int(np.prod(wave.shape[2:]))
    out = cp.empty((B,) + wave.shape[2:], dtype=cp.int32)
    launch(kernel("coding", "wb_gather"), B * n, (wave, out, np.int32(B), np.int32(T), np.int64(n)))
    return out


def scatter(tmap, T: int):
    """(B, ...) int32 time map -> (B, T, ...) uint8 cumulative wave."""
    cp = cupy_module()
    tmap = _check_timemap(tmap, "tmap", T)
    B = tmap.shape[0]
    n = int(np.prod(tmap.shape[1:]))
    out = cp.empty((B, T) + tmap.shape[1:], dtype=cp.uint8)
    launch(kernel("coding", "wb_scatter"), B * T * n, (tmap, out, np.int32(B), np.int32(T), np.int64(n)))
    return out


def _rank_only(sort: bool) -> None:
    if not sort:
        raise NotImplementedError("linear latency coding (sort=False) has no GPU kernel yet; use NumPy input")


def rank_code_timemap(images, T: int, sort: bool = True):
    """Rank-order coding to a time map: values above the sample minimum ranked descending,
    rank r -> step trunc(r * ((T + 1e-5) / n_active)) in float32 (the CPU core's arithmetic);
    equal values keep their flat-index order."""
    _rank_only(sort)
    cp = cupy_module()
    images = _require_gpu(images, "images")
    if images.dtype not in (np.float32, np.float64):
        raise TypeError(f"images must be float32 or float64, got {images.dtype}")
    if images.size and not bool(cp.isfinite(images).all()):
        raise ValueError("images contains NaN or infinite values")
    B = images.shape[0]
    flat = images.reshape(B, -1)
    n = flat.shape[1]
    n_active = (flat > flat.min(axis=1, keepdims=True)).sum(axis=1).astype(cp.int32)
    order = cp.argsort(-flat, axis=1).astype(cp.int64)  # CuPy's sort is stable
    out = cp.empty((B, n), dtype=cp.int32)
    launch(kernel("coding", "wb_rank_times"), B * n, (order, n_active, out, np.int32(B), np.int32(T), np.int64(n)))
    return out.reshape(images.shape)


def rank_code(images, T: int, sort: bool = True):
    """Rank-order coding to a cumulative wave (B, T, C, H, W)."""
    return scatter(rank_code_timemap(images, T, sort), T)


def infinite(wave):
    """Copy of a wave whose last step fires every neuron that had not fired (CPU semantics)."""
    out = _require_gpu(wave, "wave").copy()
    last = out[:, -1]
    last[last == 0] = 1
    return out


def infinite_timemap(tmap, T: int):
    """Neurons that never fired fire at the last step (on a time map, in a copy)."""
    out = _require_gpu(tmap, "tmap").astype(cupy_module().int32, copy=True)
    launch(kernel("coding", "wb_infinite"), out.size, (out, np.int32(T), np.int64(out.size)))
    return out


# ---------------------------------------------------------------- filters
def correlate2d(images, bank, padding=0):
    """Cross-correlate images (B, C, H, W) with a filter bank (F, C, KH, KW), zero padding."""
    cp = cupy_module()
    images = _require_gpu(images, "images")
    bank = _require_gpu(bank, "bank").astype(images.dtype, copy=False)
    B, C, H, W = images.shape
    F, _, KH, KW = bank.shape
    py, px = check_pair(padding, "padding")
    OH, OW = H + 2 * py - KH + 1, W + 2 * px - KW + 1
    out = cp.empty((B, F, OH, OW), dtype=images.dtype)
    args = (images, bank, out, *map(np.int32, (B, C, H, W, F, KH, KW, py, px, OH, OW)))
    launch(kernel("filters", "wb_correlate2d", images.dtype), out.size, args)
    return out


# ---------------------------------------------------------------- conv / fc
def _conv_geometry(tmap, weight, stride, padding):
    B, C, H, W = tmap.shape
    F, Cw, KH, KW = weight.shape
    if C != Cw:
        raise ValueError(f"weight has {Cw} input channels but the input has {C}")
    sy, sx = check_pair(stride, "stride", min_value=1)
    py, px = check_pair(padding, "padding")
    OH, OW = _out_size(H, KH, sy, py, py), _out_size(W, KW, sx, px, px)
    if OH < 1 or OW < 1:
        raise ValueError(f"kernel {KH}x{KW} is larger than the padded input {H + 2 * py}x{W + 2 * px}")
    return B, C, H, W, F, KH, KW, sy, sx, py, px, OH, OW


def conv(wave, weight, stride=1, padding=0):
    """Per-step potentials (B, T, F, OH, OW) of a cumulative wave (B, T, C, H, W)."""
    cp = cupy_module()
    wave = _check_wave(wave)
    _check_cumulative(wave)
    weight = _require_gpu(weight, "weight")
    T = _check_steps(wave.shape[1])
    tmap = gather(wave)
    g = _conv_geometry(tmap, weight, stride, padding)
    B, F, OH, OW = g[0], g[4], g[11], g[12]
    out = cp.empty((B, T, F, OH, OW), dtype=weight.dtype)
    launch(kernel("conv", "wb_conv_dense", weight.dtype, T), B * F * OH * OW, (tmap, weight, out, *map(np.int32, g)))
    return out


def conv_fire_timemap(tmap, weight, threshold: float, T: int, stride=1, padding=0):
    """Event-driven conv + fire: (out_tmap (B, F, OH, OW) int32, potential at first spike)."""
    cp = cupy_module()
    T = _check_steps(T)
    tmap = _check_timemap(tmap, "tmap", T)
    weight = _require_gpu(weight, "weight")
    g = _conv_geometry(tmap, weight, stride, padding)
    B, F, OH, OW = g[0], g[4], g[11], g[12]
    out_t = cp.empty((B, F, OH, OW), dtype=cp.int32)
    out_v = cp.empty((B, F, OH, OW), dtype=weight.dtype)
    real = weight.dtype.type(threshold)
    args = (tmap, weight, out_t, out_v, real, *map(np.int32, g))
    launch(kernel("conv", "wb_conv_fire", weight.dtype, T), B * F * OH * OW, args)
    return out_t, out_v


def fc(wave, weight, sign: bool = False):
    """Per-step potentials (B, T, M) of a wave (B, T, N) (or (B, T, C, H, W), flattened)."""
    cp = cupy_module()
    wave = _require_gpu(wave, "wave")
    weight = _require_gpu(weight, "weight")
    B, T = wave.shape[:2]
    flat = wave.reshape(B, T, -1, 1, 1)
    M, N = weight.shape
    if sign:
        weight = cp.sign(weight)
    pot = conv(flat, weight.reshape(M, N, 1, 1))
    return pot.reshape(B, T, M)


# ---------------------------------------------------------------- fire
def first_spike(potentials, threshold: float = 0.0):
    """(tmap, spike potential) of per-step potentials (B, T, ...)."""
    cp = cupy_module()
    pot = _require_gpu(potentials, "potentials")
    B, T = pot.shape[:2]
    n = int(np.prod(pot.shape[2:]))
    tmap = cp.empty((B,) + pot.shape[2:], dtype=cp.int32)
    spk = cp.empty((B,) + pot.shape[2:], dtype=pot.dtype)
    args = (pot, tmap, spk, np.uintp(0), pot.dtype.type(threshold), np.int32(B), np.int32(T), np.int64(n))
    launch(kernel("fire", "wb_first_spike", pot.dtype), B * n, args)
    return tmap, spk


def fire(potentials, threshold: float = 0.0, method: str = "rank"):
    """Spike-wave (B, T, ...) uint8 from potentials: cumulative rank firing or rate (counts)."""
    cp = cupy_module()
    pot = _require_gpu(potentials, "potentials")
    B, T = pot.shape[:2]
    n = int(np.prod(pot.shape[2:]))
    wave = cp.empty(pot.shape, dtype=cp.uint8)
    thr = pot.dtype.type(threshold)
    if method == "rank":
        tmap = cp.empty((B, n), dtype=cp.int32)
        spk = cp.empty((B, n), dtype=pot.dtype)
        args = (pot, tmap, spk, wave, thr, np.int32(B), np.int32(T), np.int64(n))
        launch(kernel("fire", "wb_first_spike", pot.dtype), B * n, args)
    elif method == "rate":
        if T > 255:
            raise ValueError(f"potentials must have at most 255 time steps for method='rate', got {T}")
        launch(kernel("fire", "wb_fire_rate", pot.dtype), B * n, (pot, wave, thr, np.int32(B), np.int32(T), np.int64(n)))
    else:
        raise ValueError(f"method must be 'rank' or 'rate', got {method!r}")
    return wave


def threshold(potentials, threshold: float, value: float = 0.0):
    """Copy of ``potentials`` with entries <= threshold replaced by ``value``."""
    out = _require_gpu(potentials, "potentials").copy()
    t = out.dtype.type
    launch(kernel("fire", "wb_threshold", out.dtype), out.size, (out, t(threshold), t(value), np.int64(out.size)))
    return out


def quantize(x, lower: float, middle: float, upper: float):
    """Copy of ``x`` with entries < middle set to lower, others to upper."""
    out = _require_gpu(x, "x").copy()
    t = out.dtype.type
    args = (out, t(lower), t(middle), t(upper), np.int64(out.size))
    launch(kernel("fire", "wb_quantize", out.dtype), out.size, args)
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
    tmap = _check_timemap(tmap, "tmap", T).copy()
    spk = _check_pair_like(spike_potential, tmap).copy()
    B, C, H, W = tmap.shape
    winner = _inhibit_winner(tmap, spk, T)
    args = (tmap, spk, winner, np.int32(B), np.int32(C), np.int64(H * W), np.int32(T))
    launch(kernel("inhibit", "wb_inhibit_timemap", spk.dtype), tmap.size, args)
    return tmap, spk


def inhibit(potentials, threshold: float = 0.0):
    """Dense pointwise inhibition on potentials (B, T, C, H, W) (a copy)."""
    pot = _require_gpu(potentials, "potentials").copy()
    B, T, C, H, W = pot.shape
    tmap, spk = first_spike(pot, threshold)
    winner = _inhibit_winner(tmap, spk, T)
    args = (pot, winner, np.int32(B), np.int32(T), np.int32(C), np.int64(H * W))
    launch(kernel("inhibit", "wb_inhibit_dense", pot.dtype), pot.size, args)
    return pot


# ---------------------------------------------------------------- k-WTA
def conv_wta_timemap(tmap, spike_potential, radius, count: int, T: int):
    """Winners (n, 5) int32 rows (batch, feature, time, y, x) from a time map pair."""
    cp = cupy_module()
    tmap = _check_timemap(tmap, "tmap", T)
    spk = _check_pair_like(spike_potential, tmap)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    count = min(int(count), tmap.shape[1] * tmap.shape[2] * tmap.shape[3])
    if count == 0 or tmap.shape[0] == 0:
        return cp.empty((0, 5), dtype=cp.int32)
    B, C, H, W = tmap.shape
    ry, rx = check_pair(radius, "radius")
    excluded = cp.zeros(tmap.shape, dtype=cp.uint8)
    rows = cp.empty((B, count, 5), dtype=cp.int32)
    args = (tmap, spk, excluded, rows, *map(np.int32, (C, H, W, T, ry, rx, count)))
    kernel("wta", "wb_conv_wta", spk.dtype)((B,), (256,), args)
    rows = rows.reshape(-1, 5)
    return rows[rows[:, 0] >= 0]


def conv_wta(potentials, radius, count: int, threshold: float = 0.0):
    """Winners from dense potentials (B, T, C, H, W)."""
    T = potentials.shape[1]
    tmap, spk = first_spike(potentials, threshold)
    return conv_wta_timemap(tmap, spk, radius, count, T)


def fc_wta(potentials, count: int, threshold: float = 0.0, radius: int = 0):
    """Winners (n, 5) from FC potentials (B, T, N): rows (batch, neuron, time, 0, 0)."""
    if radius:
        raise NotImplementedError("fc_wta with radius > 0 has no GPU kernel yet; use NumPy input")
    B, T, N = potentials.shape
    return conv_wta(potentials.reshape(B, T, N, 1, 1), 0, count, threshold)


# ---------------------------------------------------------------- STDP
def stdp_update(weight, pre_tmap, winners, a_plus, a_minus, *, stabilize=True, lower=0.0, upper=1.0, stride=1, padding=0):
    """In-place STDP on ``weight`` (F, C, KH, KW) from winners (n, 5) and the presynaptic
    time map (B, C, H, W); ``a_plus`` / ``a_minus`` are per-winner arrays (R-STDP)."""
    cp = cupy_module()
    if not (is_cupy_array(weight) and weight.flags.c_contiguous):
        raise TypeError("weight must be a C-contiguous cupy.ndarray (it is updated in place)")
    pre = _check_timemap(pre_tmap, "pre_tmap", None)
    win = _require_gpu(winners, "winners")
    if win.dtype != cp.int32 or win.ndim != 2 or win.shape[1] != 5:
        raise TypeError(f"winners must be an int32 (n, 5) array, got {win.dtype} {win.shape}")
    F, C, KH, KW = weight.shape
    B, Cp, H, W = pre.shape
    if Cp != C:
        raise ValueError(f"pre_tmap has {Cp} channels but the weights expect {C}")
    if win.shape[0]:
        lo, hi = win.min(axis=0), win.max(axis=0)
        if int(lo[0]) < 0 or int(hi[0]) >= B or int(lo[1]) < 0 or int(hi[1]) >= F:
            raise ValueError(f"winners refer to batch/feature outside (B={B}, F={F})")
    sy, sx = check_pair(stride, "stride", min_value=1)
    py, px = check_pair(padding, "padding")
    ap = cp.asarray(a_plus, dtype=weight.dtype).reshape(-1)
    am = cp.asarray(a_minus, dtype=weight.dtype).reshape(-1)
    n = int(win.shape[0])
    if ap.size == 1:
        ap, am = cp.full(n, ap.item(), weight.dtype), cp.full(n, am.item(), weight.dtype)
    if ap.size != n or am.size != n:
        raise ValueError(f"a_plus and a_minus must be scalars or hold one rate per winner ({n})")
    t = weight.dtype.type
    args = (weight, pre, win, ap, am, np.int32(n), np.int32(bool(stabilize)), t(lower), t(upper),
            *map(np.int32, (F, C, H, W, KH, KW, sy, sx, py, px)))
    launch(kernel("stdp", "wb_stdp", weight.dtype), weight.size, args)
    return weight


# ---------------------------------------------------------------- pool / pad
def pool_timemap(tmap, kernel, stride=None, padding=0, T: int | None = None):
    """Max pooling of a cumulative wave, on its time map: minimum time per window."""
    cp = cupy_module()
    pads = _padding4(padding)
    if T is None and any(pads):
        raise ValueError("pool_timemap needs T (the value of a never-firing neuron) when padding is non-zero")
    tmap = _check_timemap(tmap, "tmap", T)
    if any(pads):  # pad explicitly (any of the CPU's padding forms), then pool without
        tmap = pad_timemap(tmap, pads, T)
    B, C, H, W = tmap.shape
    ky, kx = check_pair(kernel, "kernel", min_value=1)
    sy, sx = check_pair(stride if stride is not None else kernel, "stride", min_value=1)
    OH, OW = _out_size(H, ky, sy, 0, 0), _out_size(W, kx, sx, 0, 0)
    if OH < 1 or OW < 1:
        raise ValueError(f"kernel {ky}x{kx} is larger than the padded input {H}x{W}")
    never = 0 if T is None else T  # only padded cells are never-firing, and they are explicit now
    out = cp.empty((B, C, OH, OW), dtype=cp.int32)
    args = (tmap, out, *map(np.int32, (B * C, H, W, ky, kx, sy, sx, 0, 0, OH, OW, never)))
    launch(kernel("pool", "wb_pool_timemap"), out.size, args)
    return out


def pad_timemap(tmap, padding, T: int | None = None):
    """Pad a time map with never-firing (time T) neurons; padding int or (y, x)."""
    if T is None:
        raise ValueError("pad_timemap needs T (the value of a never-firing neuron)")
    cp = cupy_module()
    tmap = _check_timemap(tmap, "tmap", T)
    B, C, H, W = tmap.shape
    top, left, bottom, right = _padding4(padding)
    OH, OW = H + top + bottom, W + left + right
    out = cp.empty((B, C, OH, OW), dtype=cp.int32)
    args = (tmap, out, *map(np.int32, (B * C, H, W, top, left, OH, OW, T)))
    launch(kernel("pool", "wb_pad_timemap"), out.size, args)
    return out


def max_pool(wave, kernel, stride=None, padding=0):
    """Max pooling of a cumulative 0/1 wave (B, T, C, H, W): earliest spike wins."""
    wave = _check_wave(wave)
    _check_cumulative(wave)
    T = wave.shape[1]
    return scatter(pool_timemap(gather(wave), kernel, stride, padding, T), T)


def pad(x, padding=0, value=0):
    """Pad the last two axes: int, (y, x) or (top, left, bottom, right), constant ``value``."""
    cp = cupy_module()
    x = _require_gpu(x, "x")
    top, left, bottom, right = _padding4(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return cp.pad(x, widths, mode="constant", constant_values=value)


def _layer_geometry(layer, pre):
    """(weight as (F, C, KH, KW), pre time map (B, C, H, W), stride, padding) of a Conv or FC layer."""
    cp = cupy_module()
    weight = layer.weight
    pre = _require_gpu(pre, "pre")
    if pre.dtype == cp.uint8:  # a wave: first-spike times
        pre = gather(pre)
    if hasattr(layer, "stride"):
        return weight, pre, layer.stride, layer.padding
    M, N = weight.shape
    return weight.reshape(M, N, 1, 1), pre.reshape(pre.shape[0], N, 1, 1), 1, 0


def _stdp(layer, pre, winners, a_plus, a_minus, config) -> None:
    if not (is_cupy_array(layer.weight) and layer.weight.flags.c_contiguous):
        raise TypeError("layer.weight must be a C-contiguous cupy.ndarray; move the layer with .to('cuda')")
    weight, tmap, stride, padding = _layer_geometry(layer, pre)
    stdp_update(weight, tmap, winners, a_plus, a_minus, stabilize=config.stabilize, lower=config.lower,
                upper=config.upper, stride=stride, padding=padding)


def stdp(layer, pre, winners, config) -> None:
    """STDP on a Conv or FC layer whose weights live on the GPU (see workbench.snn.stdp)."""
    _stdp(layer, pre, winners, config.a_plus, config.a_minus, config)


def rstdp(layer, pre, winners, reward, reward_config, punish_config) -> None:
    """R-STDP: per-winner reward or punishment rates (see workbench.snn.rstdp)."""
    cp = cupy_module()
    if (reward_config.stabilize, reward_config.lower, reward_config.upper) != (
        punish_config.stabilize, punish_config.lower, punish_config.upper
    ):
        raise NotImplementedError("GPU R-STDP needs the same bounds and stabiliser in both configs")
    r = cp.asarray(reward, dtype=bool)
    dt = layer.weight.dtype
    a_plus = cp.where(r, dt.type(reward_config.a_plus), dt.type(punish_config.a_plus)).astype(dt)
    a_minus = cp.where(r, dt.type(reward_config.a_minus), dt.type(punish_config.a_minus)).astype(dt)
    _stdp(layer, pre, winners, a_plus, a_minus, reward_config)


def filter_bank(kernels, images, pad_widths, mode: str):
    """Apply a filter bank on the GPU.

    Parameters
    ----------
    kernels : ndarray (F, k, k)
        Correlation kernels (for DoG/LoG: the centre minus the surround Gaussian).
    images : cupy.ndarray (B, C, H, W)
    pad_widths : (top, left, bottom, right)
    mode : {"on", "onoff", "none"}
        ``"on"``: rectified (DoG); ``"onoff"``: on then off channels per input channel
        (LoG); ``"none"``: plain correlation (Gabor).
    """
    cp = cupy_module()
    images = _require_gpu(images, "images")
    x = pad(images, tuple(pad_widths))
    B, C, H, W = x.shape
    bank = cp.asarray(np.asarray(kernels)[:, None], dtype=images.dtype)
    out = correlate2d(x.reshape(B * C, 1, H, W), bank, 0)  # (B*C, F, H', W')
    if mode == "on":
        out = cp.maximum(out, 0)
    elif mode == "onoff":
        out = cp.concatenate([cp.maximum(out, 0), cp.maximum(-out, 0)], axis=1)
    elif mode != "none":
        raise ValueError(f"mode must be 'on', 'onoff' or 'none', got {mode!r}")
    return out.reshape(B, -1, *out.shape[-2:])
