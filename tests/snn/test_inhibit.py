"""Tests of workbench.snn._inhibit: inhibit (dense) and inhibit_timemap (event-driven)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import fire, first_spike, inhibit, inhibit_timemap

try:
    import spyker
except ImportError:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker (reference simulator) is not installed")
FLOATS = [np.float32, np.float64]


# ----------------------------------------------------------------------------- references
def ref_pair(p, th):
    """First-spike time (T if never) and potential there, by plain loops."""
    B, T, C, H, W = p.shape
    tmap = np.full((B, C, H, W), T, np.int32)
    spk = np.zeros((B, C, H, W), p.dtype)
    for b, c, y, x in np.ndindex(B, C, H, W):
        for t in range(T):
            if p[b, t, c, y, x] > p.dtype.type(th):
                tmap[b, c, y, x], spk[b, c, y, x] = t, p[b, t, c, y, x]
                break
    return tmap, spk


def ref_winner(tmap, spk, T):
    """Per (b, y, x): the surviving feature or -1 (earliest, then larger potential, then lower c)."""
    B, C, H, W = tmap.shape
    win = np.full((B, H, W), -1)
    for b, y, x in np.ndindex(B, H, W):
        cands = [(tmap[b, c, y, x], -spk[b, c, y, x], c) for c in range(C) if tmap[b, c, y, x] < T]
        if cands:
            win[b, y, x] = min(cands)[2]
    return win


def ref_inhibit(p, th):
    tmap, spk = ref_pair(p, th)
    win = ref_winner(tmap, spk, p.shape[1])
    out = np.zeros_like(p)
    for b, y, x in np.ndindex(*win.shape):
        c = win[b, y, x]
        if c >= 0:
            out[b, :, c, y, x] = p[b, :, c, y, x]
    return out


def ref_inhibit_timemap(tmap, spk, T):
    win = ref_winner(tmap, spk, T)
    out_t = np.full_like(tmap, T)
    out_s = np.zeros_like(spk)
    for b, y, x in np.ndindex(*win.shape):
        c = win[b, y, x]
        if c >= 0:
            out_t[b, c, y, x], out_s[b, c, y, x] = tmap[b, c, y, x], spk[b, c, y, x]
    return out_t, out_s


def small_int_potentials(rng, shape, dtype, monotone=True):
    steps = rng.integers(0 if monotone else -2, 3, size=shape)
    return np.cumsum(steps, axis=1).astype(dtype)


# ----------------------------------------------------------------------------- dense
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5, 4, 6, 6), (1, 1, 1, 1, 1), (1, 3, 5, 1, 1), (2, 1, 3, 4, 3)])
@pytest.mark.parametrize("monotone", [True, False])
def test_inhibit_matches_reference(rng, dtype, shape, monotone):
    p = small_int_potentials(rng, shape, dtype, monotone)
    for th in (0.0, 2.0):
        out = inhibit(p, th)
        assert out.dtype == dtype and out.shape == p.shape
        np.testing.assert_array_equal(out, ref_inhibit(p, th))


def test_inhibit_ties_go_to_larger_potential_then_lower_feature():
    p = np.zeros((1, 3, 3, 1, 2), np.float32)
    # position 0: features 0 and 2 both fire first at t=1; feature 2 is higher there
    p[0, :, 0, 0, 0] = [0, 1, 5]
    p[0, :, 2, 0, 0] = [0, 2, 2]
    p[0, :, 1, 0, 0] = [0, 0, 9]  # later spike, larger potential: loses
    # position 1: exact tie -> feature 0
    p[0, :, 0, 0, 1] = [1, 1, 1]
    p[0, :, 1, 0, 1] = [1, 1, 1]
    out = inhibit(p)
    np.testing.assert_array_equal(out[0, :, :, 0, 0], np.array([[0, 0, 0], [0, 0, 2], [0, 0, 2]], np.float32))
    np.testing.assert_array_equal(out[0, :, :, 0, 1], np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]], np.float32))


def test_inhibit_all_zero_and_no_spike():
    p = np.zeros((2, 3, 4, 2, 2), np.float64)
    assert not inhibit(p).any()
    # sub-threshold potentials everywhere: positions without a spike become all zero
    q = np.full((1, 2, 3, 2, 2), 0.5, np.float32)
    assert not inhibit(q, threshold=1.0).any()


@needs_spyker
@pytest.mark.parametrize("dtype", FLOATS)
def test_inhibit_matches_spyker_where_spiking(rng, dtype):
    p = small_int_potentials(rng, (3, 6, 5, 7, 7), dtype)
    th = 7.0
    ours = inhibit(p, th)
    theirs = np.asarray(spyker.inhibit(p.copy(), th))
    spiking = (p > th).any(axis=(1, 2))  # (B, H, W) positions where some feature fires
    assert spiking.any() and (~spiking).any()
    sel = np.broadcast_to(spiking[:, None, None], p.shape)
    np.testing.assert_array_equal(ours[sel], theirs[sel])
    # documented difference: silent positions are zero here, sub-threshold in Spyker
    assert not ours[~sel].any()
    np.testing.assert_array_equal(fire(ours, th), fire(np.ascontiguousarray(theirs), th))


def test_inhibit_bad_inputs():
    with pytest.raises(ValueError, match="potentials"):
        inhibit(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(TypeError, match="potentials"):
        inhibit(np.zeros((1, 2, 3, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="potentials"):
        inhibit(np.full((1, 2, 3, 4, 5), np.nan))
    with pytest.raises(ValueError, match="threshold"):
        inhibit(np.zeros((1, 2, 3, 4, 5)), threshold=np.nan)


# ----------------------------------------------------------------------------- time maps
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4, 6, 6), (1, 1, 1, 1), (2, 5, 1, 1)])
def test_inhibit_timemap_matches_reference(rng, dtype, shape):
    T = 4
    tmap = rng.integers(0, T + 1, size=shape).astype(np.int32)
    spk = np.where(tmap < T, rng.integers(1, 3, size=shape), 0).astype(dtype)
    out_t, out_s = inhibit_timemap(tmap, spk, T=T)
    rt, rs = ref_inhibit_timemap(tmap, spk, T)
    np.testing.assert_array_equal(out_t, rt)
    np.testing.assert_array_equal(out_s, rs)
    assert out_t.dtype == np.int32 and out_s.dtype == dtype


def test_inhibit_timemap_agrees_with_dense(rng):
    p = small_int_potentials(rng, (2, 5, 4, 6, 6), np.float32)
    tmap, spk = first_spike(p, 2.0)
    out_t, out_s = inhibit_timemap(tmap, spk, T=5)
    dt, ds = first_spike(inhibit(p, 2.0), 2.0)
    np.testing.assert_array_equal(out_t, dt)
    np.testing.assert_array_equal(out_s, ds)


def test_inhibit_timemap_silent_positions():
    tmap = np.array([[[[0, 3]], [[1, 3]]]], np.int32)  # (1, 2, 1, 2); 3 = silent
    spk = np.array([[[[1.0, 0]], [[2.0, 0]]]], np.float32)
    with pytest.raises(TypeError):
        inhibit_timemap(tmap, spk)  # T has no default
    out_t, out_s = inhibit_timemap(tmap, spk, 3)
    np.testing.assert_array_equal(out_t, [[[[0, 3]], [[3, 3]]]])
    np.testing.assert_array_equal(out_s, [[[[1.0, 0]], [[0, 0]]]])


@needs_spyker
def test_inhibit_timemap_matches_spyker_sparse(rng):
    # Spyker's sparse path has no potentials, so compare where the earliest time is unique;
    # where it is tied, Spyker keeps one of the tied features and so do we.
    img = rng.random((3, 1, 12, 12)).astype(np.float32)
    T = 6
    kernel = rng.random((4, 1, 3, 3)).astype(np.float32)
    sp = spyker.sparse.conv(spyker.sparse.code(img, T), spyker.wrap_array(kernel), 1.5, 1, 1)
    tmap = spyker.to_numpy(spyker.sparse.gather(sp)).astype(np.int32)
    theirs = spyker.to_numpy(spyker.sparse.gather(spyker.sparse.inhibit(sp))).astype(np.int32)
    ours, _ = inhibit_timemap(tmap, np.zeros(tmap.shape, np.float32), T=T)
    first = tmap.min(axis=1)
    unique = (tmap == first[:, None]).sum(axis=1) == 1
    sel = np.broadcast_to(unique[:, None], tmap.shape)
    np.testing.assert_array_equal(ours[sel], theirs[sel])
    assert ((theirs < T).sum(axis=1) <= 1).all()
    np.testing.assert_array_equal(ours.min(axis=1), theirs.min(axis=1))


def test_inhibit_timemap_bad_inputs():
    t = np.zeros((1, 2, 3, 3), np.int32)
    s = np.zeros((1, 2, 3, 3), np.float32)
    with pytest.raises(TypeError, match="tmap"):
        inhibit_timemap(t.astype(np.int64), s, T=5)
    with pytest.raises(ValueError, match="tmap"):
        inhibit_timemap(t[0], s, T=5)
    with pytest.raises(ValueError, match="spike_potential"):
        inhibit_timemap(t, s[:, :1], T=5)
    with pytest.raises(TypeError, match="spike_potential"):
        inhibit_timemap(t, s.astype(np.int32), T=5)
    with pytest.raises(ValueError, match="tmap"):
        inhibit_timemap(t - 1, s, T=5)
    with pytest.raises(ValueError, match="T"):
        inhibit_timemap(t + 5, s, T=3)
    with pytest.raises(ValueError, match="T"):
        inhibit_timemap(t, s, T=0)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4)),
    monotone=st.booleans(),
)
def test_inhibit_leaves_at_most_one_spiking_feature(seed, shape, monotone):
    p = small_int_potentials(np.random.default_rng(seed), shape, np.float32, monotone)
    out = inhibit(p, 1.0)
    wave = fire(out, 1.0)
    assert (wave[:, -1].sum(axis=1) <= 1).all()  # at most one feature ever fires per position
    # the earliest spike time of each position is preserved
    t_in, _ = first_spike(p, 1.0)
    t_out, _ = first_spike(out, 1.0)
    np.testing.assert_array_equal(t_in.min(axis=1), t_out.min(axis=1))
    # kept values are untouched, others are zero
    assert ((out == p) | (out == 0)).all()


def test_parallel_path_matches_reference(rng, monkeypatch):
    """Force the multi-threaded kernels on a small input (normally run serially)."""
    from workbench.snn import num_threads

    monkeypatch.setattr(importlib.import_module("workbench._threads"), "PARALLEL_MIN_WORK", 0)
    p = small_int_potentials(rng, (5, 4, 3, 6, 6), np.float32, monotone=False)
    with num_threads(3):
        np.testing.assert_array_equal(inhibit(p, 1.0), ref_inhibit(p, 1.0))
        tmap, spk = ref_pair(p, 1.0)
        for got, want in zip(inhibit_timemap(tmap, spk, T=4), ref_inhibit_timemap(tmap, spk, 4)):
            np.testing.assert_array_equal(got, want)


@needs_spyker
def test_inhibit_signed_potentials_use_true_first_spike():
    # Documented difference: feature 0 fires first (t=0) then falls back; Spyker counts
    # supra-threshold steps (2 -> looks at step 1) and keeps feature 1, we keep feature 0.
    p = np.zeros((1, 3, 2, 1, 1), np.float32)
    p[0, :, 0, 0, 0] = [1, 0, 0]
    p[0, :, 1, 0, 0] = [0, 0.3, 2]
    ours = inhibit(p, 0.5)[0, :, :, 0, 0]
    theirs = np.asarray(spyker.inhibit(p.copy(), 0.5))[0, :, :, 0, 0]
    np.testing.assert_array_equal(ours, [[1, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(theirs, np.array([[0, 0], [0, 0.3], [0, 2]], np.float32))


@needs_spyker
def test_inhibit_silent_positions_differ_from_spyker():
    # Documented difference: Spyker keeps the sub-threshold arg-max feature, we zero it.
    p = np.zeros((1, 2, 2, 1, 1), np.float32)
    p[0, :, 1, 0, 0] = [0.1, 0.2]
    assert not inhibit(p, 0.5).any()
    np.testing.assert_array_equal(np.asarray(spyker.inhibit(p.copy(), 0.5))[0, :, 1, 0, 0], np.array([0.1, 0.2], np.float32))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 2), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4)),
    T=st.integers(1, 5),
)
def test_inhibit_timemap_properties(seed, shape, T):
    rng = np.random.default_rng(seed)
    tmap = rng.integers(0, T + 1, size=shape).astype(np.int32)
    spk = np.where(tmap < T, rng.integers(0, 3, size=shape), 0).astype(np.float32)
    out_t, out_s = inhibit_timemap(tmap, spk, T=T)
    assert ((out_t < T).sum(axis=1) <= 1).all()  # one survivor per position at most
    np.testing.assert_array_equal(out_t.min(axis=1), tmap.min(axis=1))  # earliest kept
    kept = out_t < T
    np.testing.assert_array_equal(out_t[kept], tmap[kept])
    np.testing.assert_array_equal(out_s[kept], spk[kept])
    assert not out_s[~kept].any()


# ------------------------------------------------- fused event-driven kernel (perf path)
def sparse_pair(rng, shape, T, dtype, density=0.1, signed=True):
    """Mostly-silent time map with potentials that may be negative, and exact ties."""
    tmap = np.where(rng.random(shape) < density, rng.integers(0, T, size=shape), T).astype(np.int32)
    low = -2 if signed else 1
    spk = np.where(tmap < T, rng.integers(low, 3, size=shape), 0).astype(dtype)
    return tmap, spk


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 7, 5, 7), (1, 3, 1, 17), (3, 2, 6, 6), (2, 30, 4, 9)])
@pytest.mark.parametrize("density", [0.05, 0.5, 1.0])
def test_inhibit_timemap_sparse_signed_matches_reference(rng, dtype, shape, density):
    """Negative potentials, exact (time, potential) ties and row lengths that are not a
    multiple of the vector width all go through the fused kernel."""
    T = 3
    tmap, spk = sparse_pair(rng, shape, T, dtype, density)
    for got, want in zip(inhibit_timemap(tmap, spk, T), ref_inhibit_timemap(tmap, spk, T)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_inhibit_timemap_negative_potential_ties():
    # same time at both features; -1 > -2 so feature 1 wins; equal values -> feature 0
    tmap = np.zeros((1, 2, 1, 2), np.int32)
    spk = np.array([[[[-2.0, -1.0]], [[-1.0, -1.0]]]], np.float32)
    out_t, out_s = inhibit_timemap(tmap, spk, 4)
    np.testing.assert_array_equal(out_t, [[[[4, 0]], [[0, 4]]]])
    np.testing.assert_array_equal(out_s, [[[[0, -1]], [[-1, 0]]]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_inhibit_timemap_checks_every_entry(rng, bad):
    """The checks are fused into the kernel: a bad value anywhere (also at a silent
    neuron, in the last sample, or at the last position) must still be rejected."""
    T = 4
    tmap, spk = sparse_pair(rng, (3, 4, 5, 6), T, np.float32)
    s = spk.copy()
    s[-1, -1, -1, -1] = bad
    tmap[-1, -1, -1, -1] = T  # silent there
    with pytest.raises(ValueError, match="spike_potential"):
        inhibit_timemap(tmap, s, T)
    t = tmap.copy()
    t[-1, -1, -1, -1] = -1
    with pytest.raises(ValueError, match="non-negative"):
        inhibit_timemap(t, spk, T)
    t[-1, -1, -1, -1] = T + 1
    with pytest.raises(ValueError, match="T=4"):
        inhibit_timemap(t, spk, T)


def test_inhibit_timemap_parallel_sparse(rng, monkeypatch):
    from workbench.snn import num_threads

    monkeypatch.setattr(importlib.import_module("workbench._threads"), "PARALLEL_MIN_WORK", 0)
    tmap, spk = sparse_pair(rng, (7, 5, 6, 11), 5, np.float64, 0.2)
    with num_threads(3):
        for got, want in zip(inhibit_timemap(tmap, spk, 5), ref_inhibit_timemap(tmap, spk, 5)):
            np.testing.assert_array_equal(got, want)


def test_dense_inhibit_rejects_negative_threshold():
    # zeroed losers would "fire" at a negative threshold, unlike the event-driven path
    p = np.ones((1, 2, 2, 1, 1), np.float32)
    with pytest.raises(ValueError, match="threshold"):
        inhibit(p, -0.5)
