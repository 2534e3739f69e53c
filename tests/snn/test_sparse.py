"""The event-driven facade (workbench.snn.sparse) against the dense path."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import snn
from workbench.snn import STDPConfig, max_pool, pad, sparse, stdp


def scatter_ref(tmap: np.ndarray, T: int) -> np.ndarray:
    t = np.arange(T).reshape((1, T) + (1,) * (tmap.ndim - 1))
    return (t >= tmap[:, None]).astype(np.uint8)


def gather_ref(wave: np.ndarray) -> np.ndarray:
    T = wave.shape[1]
    out = np.full((wave.shape[0], *wave.shape[2:]), T, np.int32)
    for idx in np.ndindex(*out.shape):
        b, rest = idx[0], idx[1:]
        hits = np.flatnonzero(wave[(b, slice(None), *rest)])
        if hits.size:
            out[idx] = hits[0]
    return out


def _dense_pieces():
    names = ["rank_code", "conv", "inhibit", "conv_wta", "rank_code_timemap", "conv_fire_timemap", "inhibit_timemap", "conv_wta_timemap"]
    missing = [n for n in names if not hasattr(snn, n)]
    if missing:
        pytest.skip(f"simulator pieces not available yet: {', '.join(missing)}")


# ---------------------------------------------------------------- own ops
def test_sparse_pad_and_pool_equal_dense(rng):
    T = 5
    tm = rng.integers(0, T + 1, (2, 3, 6, 7)).astype(np.int32)
    wave = scatter_ref(tm, T)
    np.testing.assert_array_equal(sparse.pad(tm, (1, 2), T), gather_ref(pad(wave, (1, 2))))
    np.testing.assert_array_equal(sparse.pool(tm, 3, 2, 1, T=T), gather_ref(max_pool(wave, 3, 2, 1)))
    np.testing.assert_array_equal(sparse.pool(tm, 2), gather_ref(max_pool(wave, 2)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 5), n=st.integers(0, 8), padding=st.integers(0, 1))
def test_sparse_stdp_equals_dense_property(seed, T, n, padding):
    rng = np.random.default_rng(seed)
    tm = rng.integers(0, T + 1, (2, 2, 4, 4)).astype(np.int32)
    weight = rng.uniform(0, 1, (3, 2, 3, 3)).astype(np.float32)
    out = 4 + 2 * padding - 2
    winners = np.stack(
        [rng.integers(0, 2, n), rng.integers(0, 3, n), rng.integers(0, T, n), rng.integers(0, out, n), rng.integers(0, out, n)],
        axis=1,
    ).astype(np.int32)
    cfg = STDPConfig(0.05, -0.04)
    dense = SimpleNamespace(weight=weight.copy(), stride=(1, 1), padding=(padding, padding))
    event = SimpleNamespace(weight=weight.copy(), stride=(1, 1), padding=(padding, padding))
    stdp(dense, scatter_ref(tm, T), winners, cfg)
    sparse.stdp(event, tm, winners, cfg)
    np.testing.assert_array_equal(dense.weight, event.weight)


def test_sparse_rstdp_equals_dense(rng):
    T = 4
    tm = rng.integers(0, T + 1, (1, 1, 3, 3)).astype(np.int32)
    winners = np.array([[0, 0, 1, 0, 0], [0, 1, 3, 0, 0]], np.int32)
    reward = np.array([True, False])
    good, bad = STDPConfig(0.1, -0.1), STDPConfig(-0.1, 0.1)
    a = SimpleNamespace(weight=np.full((2, 1, 3, 3), 0.5), stride=(1, 1), padding=(0, 0))
    b = SimpleNamespace(weight=np.full((2, 1, 3, 3), 0.5), stride=(1, 1), padding=(0, 0))
    snn.rstdp(a, scatter_ref(tm, T), winners, reward, good, bad)
    sparse.rstdp(b, tm, winners, reward, good, bad)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.weight, np.full((2, 1, 3, 3), 0.5))


def test_sparse_bad_inputs():
    layer = SimpleNamespace(weight=np.full((1, 1, 1, 1), 0.5), stride=(1, 1), padding=(0, 0))
    ok = np.zeros((1, 5), np.int32)
    with pytest.raises(TypeError, match="tmap"):
        sparse.stdp(layer, np.zeros((1, 1, 1, 1), np.uint8), ok, STDPConfig(0.1, -0.1))
    with pytest.raises(TypeError, match="tmap"):
        sparse.rstdp(layer, np.zeros((1, 1, 1, 1), np.int64), ok, np.ones(1, bool), STDPConfig(0.1, -0.1), STDPConfig(0.1, -0.1))
    with pytest.raises(ValueError, match="T"):
        sparse.pad(np.zeros((1, 1, 2, 2), np.int32), 1, None)
    with pytest.raises(ValueError, match="tmap"):
        sparse.pool(np.full((1, 1, 2, 2), 7, np.int32), 2, 1, 1, T=5)


# ---------------------------------------------------------------- end to end
@pytest.mark.parametrize(
    "dtype,threshold,stride,padding,signed",
    [(np.float32, 2.5, 1, 1, False), (np.float64, 4.0, 2, 0, False), (np.float32, 0.5, 1, 0, True)],
)
def test_end_to_end_sparse_equals_dense(rng, dtype, threshold, stride, padding, signed):
    """code -> pool -> conv+fire -> inhibit -> k-WTA -> STDP, two training steps."""
    _dense_pieces()
    T, B, C, F, k = 6, 3, 2, 4, 3
    images = rng.random((B, C, 11, 10)).astype(dtype)
    images[0, :, :2] = 0  # ties at the minimum, which never spike
    if signed:
        w0 = rng.normal(0.1, 0.5, (F, C, k, k)).astype(dtype)
        cfg = STDPConfig(0.05, -0.04, lower=-1.0, upper=1.0)
    else:
        w0 = rng.normal(0.5, 0.05, (F, C, k, k)).astype(dtype)
        cfg = STDPConfig(0.004 * 20, -0.003 * 20)
    dense = SimpleNamespace(weight=w0.copy(), stride=(stride, stride), padding=(padding, padding))
    event = SimpleNamespace(weight=w0.copy(), stride=(stride, stride), padding=(padding, padding))
    n_winners = 0
    for _ in range(2):
        wave = max_pool(snn.rank_code(images, T), 2, 1, 1)
        pot = snn.inhibit(snn.conv(wave, dense.weight, stride, padding), threshold)
        win_d = snn.conv_wta(pot, 1, 3, threshold)
        stdp(dense, wave, win_d, cfg)

        tm = sparse.pool(sparse.code(images, T), 2, 1, 1, T=T)
        np.testing.assert_array_equal(tm, gather_ref(wave))
        otm, spot = sparse.conv(tm, event.weight, threshold, T, stride, padding)
        otm, spot = sparse.inhibit(otm, spot, T)
        win_s = sparse.conv_wta(otm, spot, 1, 3, T)
        np.testing.assert_array_equal(win_s, win_d)
        sparse.stdp(event, tm, win_s, cfg)
        np.testing.assert_array_equal(event.weight, dense.weight)
        n_winners += len(win_d)
    assert n_winners > 0, "the test network produced no winners (test would be vacuous)"
    assert not np.array_equal(dense.weight, w0)
