"""Padding and pooling (workbench.snn._pool) against plain NumPy loops and Spyker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import max_pool, pad, pad_timemap, pool_timemap, rate_pool

try:
    import spyker
except Exception:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")


# ---------------------------------------------------------------- references
def scatter_ref(tmap: np.ndarray, T: int) -> np.ndarray:
    B, C, H, W = tmap.shape
    wave = np.zeros((B, T, C, H, W), np.uint8)
    for b in range(B):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    wave[b, tmap[b, c, i, j] :, c, i, j] = 1
    return wave


def gather_ref(wave: np.ndarray) -> np.ndarray:
    B, T, C, H, W = wave.shape
    out = np.full((B, C, H, W), T, np.int32)
    for b in range(B):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    hits = [t for t in range(T) if wave[b, t, c, i, j]]
                    if hits:
                        out[b, c, i, j] = hits[0]
    return out


def pad_ref(x, top, bottom, left, right, value):
    H, W = x.shape[-2:]
    out = np.full((*x.shape[:-2], H + top + bottom, W + left + right), value, dtype=x.dtype)
    for i in range(H):
        for j in range(W):
            out[..., top + i, left + j] = x[..., i, j]
    return out


def windows(H, W, kh, kw, sh, sw):
    for i in range((H - kh) // sh + 1):
        for j in range((W - kw) // sw + 1):
            yield i, j, [(i * sh + u, j * sw + v) for u in range(kh) for v in range(kw)]


def max_pool_ref(wave, kh, kw, sh, sw, pads):
    x = pad_ref(wave, *pads, 0)
    B, T, C, H, W = x.shape
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((B, T, C, oh, ow), wave.dtype)
    for b in range(B):
        for t in range(T):
            for c in range(C):
                for i, j, cells in windows(H, W, kh, kw, sh, sw):
                    out[b, t, c, i, j] = max(x[b, t, c, u, v] for u, v in cells)
    return out


def min_pool_ref(tmap, kh, kw, sh, sw, pads, T):
    x = pad_ref(tmap, *pads, T)
    B, C, H, W = x.shape
    out = np.zeros((B, C, (H - kh) // sh + 1, (W - kw) // sw + 1), np.int32)
    for b in range(B):
        for c in range(C):
            for i, j, cells in windows(H, W, kh, kw, sh, sw):
                out[b, c, i, j] = min(x[b, c, u, v] for u, v in cells)
    return out


def rate_pool_ref(wave, rates, kh, kw, sh, sw):
    B, T, C, H, W = wave.shape
    out = np.zeros((B, T, C, (H - kh) // sh + 1, (W - kw) // sw + 1), wave.dtype)
    for b in range(B):
        for c in range(C):
            for i, j, cells in windows(H, W, kh, kw, sh, sw):
                best = cells[0]
                for u, v in cells:  # first maximum in row-major order wins
                    if rates[b, c, u, v] > rates[b, c, best[0], best[1]]:
                        best = (u, v)
                out[b, :, c, i, j] = wave[b, :, c, best[0], best[1]]
    return out


def random_tmap(rng, shape, T):
    return rng.integers(0, T + 1, size=shape).astype(np.int32)


# (kernel, stride, padding, internal (top, bottom, left, right))
GEOMETRIES = [
    (2, None, 0, (0, 0, 0, 0)),
    (3, 2, 1, (1, 1, 1, 1)),
    ((2, 3), (1, 2), (1, 2), (1, 1, 2, 2)),
    (3, 1, (1, 0, 2, 1), (1, 2, 0, 1)),  # Spyker order: (top, left, bottom, right)
    (1, 1, 0, (0, 0, 0, 0)),
]


# ---------------------------------------------------------------- pad
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("spec,pads", [(1, (1, 1, 1, 1)), ((2, 1), (2, 2, 1, 1)), ((1, 2, 3, 4), (1, 3, 2, 4)), (0, (0,) * 4)])
def test_pad_matches_reference(rng, dtype, spec, pads):
    x = (rng.random((2, 3, 4, 5)) * 50).astype(dtype)
    np.testing.assert_array_equal(pad(x, spec, value=7), pad_ref(x, *pads, 7))
    x5 = (rng.random((2, 2, 3, 4, 5)) * 50).astype(dtype)
    out = pad(x5, spec)
    assert out.dtype == x5.dtype
    np.testing.assert_array_equal(out, pad_ref(x5, *pads, 0))


def test_pad_1x1_batch1():
    x = np.ones((1, 1, 1, 1), np.float32)
    out = pad(x, 1, value=-2.5)
    expect = np.full((1, 1, 3, 3), -2.5, np.float32)
    expect[0, 0, 1, 1] = 1
    np.testing.assert_array_equal(out, expect)


def test_pad_timemap_equals_padded_wave(rng):
    T = 4
    tm = random_tmap(rng, (2, 2, 3, 4), T)
    out = pad_timemap(tm, (1, 0, 2, 1), T)
    np.testing.assert_array_equal(out, gather_ref(pad(scatter_ref(tm, T), (1, 0, 2, 1))))
    assert out[0, 0, 0, 0] == T
    assert pad_timemap(tm, 0) is tm  # no padding: no T needed


@needs_spyker
@pytest.mark.parametrize("spec", [1, (1, 2), (2, 1), (1, 2, 3, 4), (0, 0, 0, 1), (1, 0, 0, 0)])
def test_pad_matches_spyker(rng, spec):
    x = (rng.random((2, 3, 2, 4, 5)) * 9).astype(np.float32)
    np.testing.assert_array_equal(pad(x, spec, value=3), spyker.pad(x, spec, 3.0))
    w = (rng.random((2, 3, 2, 4, 5)) > 0.5).astype(np.uint8)
    np.testing.assert_array_equal(pad(w, spec), spyker.pad(w, spec))


# ---------------------------------------------------------------- max_pool / pool_timemap
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("kernel,stride,padding,pads", GEOMETRIES)
def test_max_pool_matches_reference(rng, dtype, kernel, stride, padding, pads):
    T = 4
    tm = random_tmap(rng, (2, 3, 7, 6), T)
    wave = scatter_ref(tm, T).astype(dtype)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    s = kernel if stride is None else stride
    sh, sw = (s, s) if isinstance(s, int) else s
    out = max_pool(wave, kernel, stride, padding)
    assert out.dtype == wave.dtype
    np.testing.assert_array_equal(out, max_pool_ref(wave, kh, kw, sh, sw, pads))
    np.testing.assert_array_equal(
        pool_timemap(tm, kernel, stride, padding, T=T), min_pool_ref(tm, kh, kw, sh, sw, pads, T)
    )
    np.testing.assert_array_equal(pool_timemap(tm, kernel, stride, padding, T=T), gather_ref(out.astype(np.uint8)))


def test_max_pool_float_values(rng):
    # Non-wave float input (potentials): per-step maximum, zero padding like Spyker.
    x = rng.normal(size=(1, 2, 1, 3, 3))
    np.testing.assert_array_equal(max_pool(x, 2, 1, 1), max_pool_ref(x, 2, 2, 1, 1, (1, 1, 1, 1)))
    assert max_pool(-np.ones((1, 1, 1, 2, 2)), 2, 1, 1)[0, 0, 0, 0, 0] == 0


def test_pool_edge_cases():
    # B=1, 1x1 image, T=1
    w = np.ones((1, 1, 1, 1, 1), np.uint8)
    np.testing.assert_array_equal(max_pool(w, 1), w)
    np.testing.assert_array_equal(max_pool(w, 2, 2, 1), w)  # window covers pixel + padding
    tm = np.zeros((1, 1, 1, 1), np.int32)
    np.testing.assert_array_equal(pool_timemap(tm, 1), tm)
    np.testing.assert_array_equal(pool_timemap(tm, 3, 1, 1, T=1), tm)
    # all-zero wave: nothing fires anywhere
    z = np.zeros((1, 3, 2, 4, 4), np.uint8)
    assert not max_pool(z, 2).any()
    np.testing.assert_array_equal(pool_timemap(np.full((1, 2, 4, 4), 3, np.int32), 2), np.full((1, 2, 2, 2), 3))
    # window made only of padding never fires (time T)
    out = pool_timemap(np.zeros((1, 1, 1, 1), np.int32), 2, 2, 2, T=5)
    assert out.shape == (1, 1, 2, 2) and out[0, 0, 0, 0] == 5 and out[0, 0, 1, 1] == 0


@needs_spyker
@pytest.mark.parametrize("kernel,stride,padding,pads", GEOMETRIES)
def test_max_pool_matches_spyker(rng, kernel, stride, padding, pads):
    T = 5
    wave = scatter_ref(random_tmap(rng, (2, 3, 7, 6), T), T)
    np.testing.assert_array_equal(max_pool(wave, kernel, stride, padding), spyker.pool(wave, kernel, stride, padding))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    B=st.integers(1, 2), C=st.integers(1, 2), H=st.integers(1, 6), W=st.integers(1, 6),
    T=st.integers(1, 6), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
)
def test_pool_timemap_is_window_min_property(seed, B, C, H, W, T, k, s, p):
    if H + 2 * p < k or W + 2 * p < k:
        return
    rng = np.random.default_rng(seed)
    tm = random_tmap(rng, (B, C, H, W), T)
    out = pool_timemap(tm, k, s, p, T=T)
    np.testing.assert_array_equal(out, min_pool_ref(tm, k, k, s, s, (p,) * 4, T))
    np.testing.assert_array_equal(out, gather_ref(max_pool(scatter_ref(tm, T), k, s, p)))


# ---------------------------------------------------------------- rate_pool
@pytest.mark.parametrize("wdtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("rdtype", [np.float32, np.float64])
def test_rate_pool_matches_reference(rng, wdtype, rdtype):
    T = 4
    wave = scatter_ref(random_tmap(rng, (2, 2, 6, 5), T), T).astype(wdtype)
    rates = rng.random((2, 2, 6, 5)).astype(rdtype)
    np.testing.assert_array_equal(rate_pool(wave, rates, 2), rate_pool_ref(wave, rates, 2, 2, 2, 2))
    np.testing.assert_array_equal(rate_pool(wave, rates, 3, 1), rate_pool_ref(wave, rates, 3, 3, 1, 1))


def test_rate_pool_ties_and_padding(rng):
    T = 3
    wave = scatter_ref(random_tmap(rng, (1, 1, 4, 4), T), T)
    rates = np.ones((1, 1, 4, 4))  # all tied: first cell of each window wins
    np.testing.assert_array_equal(rate_pool(wave, rates, 2), wave[:, :, :, ::2, ::2])
    # padding never wins against a real input, even one with a negative rate
    out = rate_pool(wave, -np.ones((1, 1, 4, 4)), 2, 2, 1)
    np.testing.assert_array_equal(out[0, :, 0, 0, 0], wave[0, :, 0, 0, 0])
    np.testing.assert_array_equal(out[0, :, 0, 2, 2], wave[0, :, 0, 3, 3])
    # window made only of padding: silent
    assert not rate_pool(np.ones((1, 1, 1, 1, 1), np.uint8), np.ones((1, 1, 1, 1)), 2, 2, 2)[0, 0, 0, 0, 0]


@needs_spyker
def test_rate_pool_matches_spyker(rng):
    T = 5
    for trial in range(4):
        wave = scatter_ref(random_tmap(rng, (2, 3, 6, 7), T), T).astype(np.float32)
        rates = rng.random((2, 3, 6, 7)).astype(np.float32)
        if trial % 2:
            rates = np.round(rates * 3).astype(np.float32)  # many ties
        np.testing.assert_array_equal(rate_pool(wave, rates, 2), spyker.pool(wave, 2, rates=rates))
        np.testing.assert_array_equal(rate_pool(wave, rates, 3, 2), spyker.pool(wave, 3, 2, rates=rates))


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs():
    w = np.zeros((1, 2, 1, 4, 4), np.uint8)
    tm = np.zeros((1, 1, 4, 4), np.int32)
    with pytest.raises(TypeError, match="x"):
        pad([[1.0]], 1)
    with pytest.raises(TypeError, match="x"):
        pad(np.zeros((1, 1, 2, 2), np.int64), 1)
    with pytest.raises(ValueError, match="x"):
        pad(np.zeros((2, 2)), 1)
    with pytest.raises(ValueError, match="x"):
        pad(np.full((1, 1, 2, 2), np.nan), 1)
    with pytest.raises(ValueError, match="padding"):
        pad(w, -1)
    with pytest.raises(TypeError, match="padding"):
        pad(w, (1, 2, 3))
    with pytest.raises(ValueError, match="value"):
        pad(w, 1, value=300)
    with pytest.raises(ValueError, match="value"):
        pad(w, 1, value=0.5)
    with pytest.raises(ValueError, match="T"):
        pad_timemap(tm, 1)
    with pytest.raises(ValueError, match="tmap"):
        pad_timemap(tm + 9, 1, T=4)
    with pytest.raises(ValueError, match="wave"):
        max_pool(np.zeros((1, 4, 4), np.uint8), 2)
    with pytest.raises(TypeError, match="wave"):
        max_pool(w.astype(np.int32), 2)
    with pytest.raises(ValueError, match="kernel"):
        max_pool(w, 0)
    with pytest.raises(ValueError, match="kernel"):
        max_pool(w, 5)
    with pytest.raises(ValueError, match="stride"):
        max_pool(w, 2, 0)
    with pytest.raises(TypeError, match="tmap"):
        pool_timemap(tm.astype(np.int64), 2)
    with pytest.raises(ValueError, match="tmap"):
        pool_timemap(tm - 1, 2)
    with pytest.raises(ValueError, match="rates"):
        rate_pool(w, np.full((1, 1, 4, 4), np.nan), 2)
    with pytest.raises(ValueError, match="rates"):
        rate_pool(w, np.zeros((1, 1, 4, 3)), 2)
    with pytest.raises(TypeError, match="rates"):
        rate_pool(w, np.zeros((1, 1, 4, 4), np.uint8), 2)


def test_pool_threads_do_not_change_result(rng):
    from workbench import snn

    T = 4
    tm = random_tmap(rng, (5, 2, 9, 8), T)
    wave = scatter_ref(tm, T)
    rates = rng.random((5, 2, 9, 8))
    results = []
    for n in (1, 3):
        with snn.num_threads(n):
            results.append((max_pool(wave, 3, 2, 1), pool_timemap(tm, 3, 2, 1, T=T), rate_pool(wave, rates, 2)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------- cumulative-wave fast path of max_pool
@pytest.mark.parametrize("kernel,stride,padding,pads", GEOMETRIES)
@pytest.mark.parametrize("shape,T", [((3, 4, 7, 9), 5), ((1, 1, 3, 3), 1), ((2, 3, 5, 17), 3)])
def test_max_pool_cumulative_fast_path_matches_reference(rng, kernel, stride, padding, pads, shape, T):
    from workbench.snn._pool import _geometry, _max_pool_cumulative

    tm = random_tmap(rng, shape, T)
    wave = scatter_ref(tm, T)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    s = kernel if stride is None else stride
    sh, sw = (s, s) if isinstance(s, int) else s
    want = max_pool_ref(wave, kh, kw, sh, sw, pads)
    np.testing.assert_array_equal(max_pool(wave, kernel, stride, padding), want)
    # the fast path itself accepts this wave and gives the same result
    k, st_, p4, (oh, ow) = _geometry(wave.shape, kernel, stride, padding)
    out = np.empty((*wave.shape[:3], oh, ow), np.uint8)
    assert _max_pool_cumulative(wave, out, p4, k, st_)
    np.testing.assert_array_equal(out, want)


def test_max_pool_cumulative_edge_cases():
    for T in (1, 4):
        zero = np.zeros((1, T, 1, 1, 1), np.uint8)
        np.testing.assert_array_equal(max_pool(zero, 1), zero)
        ones = np.ones((2, T, 3, 4, 4), np.uint8)
        np.testing.assert_array_equal(max_pool(ones, 2), np.ones((2, T, 3, 2, 2), np.uint8))
        # padding-only windows (kernel 1 on padding) stay silent
        np.testing.assert_array_equal(max_pool(ones, 1, 1, 1)[:, :, :, 0, 0], 0)


@pytest.mark.parametrize("kind", ["counts", "drop", "random", "one_sample"])
def test_max_pool_non_cumulative_waves_use_general_path(rng, kind):
    """Waves that are not 0/1 cumulative must give the per-step maximum, exactly."""
    from workbench.snn._pool import _geometry, _max_pool_cumulative

    T = 4
    wave = scatter_ref(random_tmap(rng, (3, 2, 6, 7), T), T)
    if kind == "counts":  # rate-firing counts: non-decreasing but > 1
        wave = np.cumsum(rng.integers(0, 2, size=wave.shape), axis=1).astype(np.uint8)
    elif kind == "drop":  # a 1 -> 0 transition
        b, t, c, y, x = np.argwhere(wave[:, :-1] == 1)[0]
        wave[b, t + 1, c, y, x] = 0
    elif kind == "random":
        wave = rng.integers(0, 2, size=wave.shape).astype(np.uint8)
    else:  # only the last sample, last position is not cumulative
        wave[-1, 0, -1, -1, -1] = 1
        wave[-1, 1:, -1, -1, -1] = 0
    want = max_pool_ref(wave, 3, 3, 2, 2, (1, 1, 1, 1))
    np.testing.assert_array_equal(max_pool(wave, 3, 2, 1), want)
    k, st_, p4, (oh, ow) = _geometry(wave.shape, 3, 2, 1)
    assert not _max_pool_cumulative(wave, np.empty((*wave.shape[:3], oh, ow), np.uint8), p4, k, st_)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1), B=st.integers(1, 3), C=st.integers(1, 3), H=st.integers(1, 7),
    W=st.integers(1, 7), T=st.integers(1, 5), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
)
def test_max_pool_is_pooled_time_map_property(seed, B, C, H, W, T, k, s, p):
    """gather(max_pool(scatter(tm))) == pool_timemap(tm) for every geometry that fits."""
    if H + 2 * p < k or W + 2 * p < k:
        return
    tm = random_tmap(np.random.default_rng(seed), (B, C, H, W), T)
    pooled = max_pool(scatter_ref(tm, T), k, s, p)
    np.testing.assert_array_equal(gather_ref(pooled), min_pool_ref(tm, k, k, s, s, (p,) * 4, T))
