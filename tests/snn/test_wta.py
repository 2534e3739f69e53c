"""Tests of workbench.snn._wta: conv_wta, conv_wta_timemap and fc_wta."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import conv_wta, conv_wta_timemap, fc_wta, first_spike

try:
    import spyker
except ImportError:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker (reference simulator) is not installed")
FLOATS = [np.float32, np.float64]


# ----------------------------------------------------------------------------- references
def ref_pair(p, th):
    """(B, T, ...) potentials -> first-spike time (T if never) and potential there, by loops."""
    B, T = p.shape[:2]
    rest = p.shape[2:]
    tmap = np.full((B, *rest), T, np.int32)
    spk = np.zeros((B, *rest), p.dtype)
    for idx in np.ndindex(B, *rest):
        b, r = idx[0], idx[1:]
        for t in range(T):
            if p[(b, t, *r)] > p.dtype.type(th):
                tmap[idx], spk[idx] = t, p[(b, t, *r)]
                break
    return tmap, spk


def ref_conv_select(tmap, spk, T, ry, rx, count):
    """Sort all fired neurons by (time, -potential, c, y, x); greedily take non-excluded ones."""
    rows = []
    B, C, H, W = tmap.shape
    for b in range(B):
        cands = sorted(
            (tmap[b, c, y, x], -spk[b, c, y, x], c, y, x)
            for c, y, x in np.ndindex(C, H, W)
            if tmap[b, c, y, x] < T
        )
        taken = []
        for t, _, c, y, x in cands:
            if len(taken) == count:
                break
            if any(c == tc or (abs(y - ty) <= ry and abs(x - tx) <= rx) for tc, ty, tx in taken):
                continue
            taken.append((c, y, x))
            rows.append((b, c, t, y, x))
    return np.array(rows, np.int32).reshape(-1, 5)


def ref_fc_select(tmap, spk, T, radius, count):
    rows = []
    B, N = tmap.shape
    for b in range(B):
        cands = sorted((tmap[b, n], -spk[b, n], n) for n in range(N) if tmap[b, n] < T)
        taken = []
        for t, _, n in cands:
            if len(taken) == count:
                break
            if any(abs(n - m) <= radius for m in taken):
                continue
            taken.append(n)
            rows.append((b, n, t, 0, 0))
    return np.array(rows, np.int32).reshape(-1, 5)


def small_int_potentials(rng, shape, dtype, monotone=True):
    steps = rng.integers(0 if monotone else -2, 3, size=shape)
    return np.cumsum(steps, axis=1).astype(dtype)


# ----------------------------------------------------------------------------- conv_wta
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "shape, radius, count",
    [
        ((3, 5, 6, 9, 9), 1, 4),
        ((2, 4, 3, 7, 8), (0, 2), 10),  # count larger than the features available
        ((1, 1, 1, 1, 1), 0, 3),  # 1x1 map, T=1
        ((2, 3, 5, 1, 1), 2, 5),
        ((1, 6, 4, 10, 10), 0, 6),
        ((2, 2, 3, 5, 5), 9, 3),  # radius bigger than the map
    ],
)
@pytest.mark.parametrize("monotone", [True, False])
def test_conv_wta_matches_reference(rng, dtype, shape, radius, count, monotone):
    p = small_int_potentials(rng, shape, dtype, monotone)
    ry, rx = (radius, radius) if isinstance(radius, int) else radius
    for th in (0.0, 2.0):
        w = conv_wta(p, radius, count, th)
        assert w.dtype == np.int32 and w.ndim == 2 and w.shape[1] == 5
        tmap, spk = ref_pair(p, th)
        np.testing.assert_array_equal(w, ref_conv_select(tmap, spk, shape[1], ry, rx, count))


def test_conv_wta_float_potentials_and_count_zero(rng):
    p = rng.random((4, 5, 6, 8, 8)).cumsum(axis=1)
    tmap, spk = ref_pair(p, 2.0)
    np.testing.assert_array_equal(conv_wta(p, 2, 5, 2.0), ref_conv_select(tmap, spk, 5, 2, 2, 5))
    assert conv_wta(p, 2, 0, 2.0).shape == (0, 5)


def test_conv_wta_all_zero_gives_no_winners():
    assert conv_wta(np.zeros((2, 3, 4, 5, 5), np.float32), 1, 3).shape == (0, 5)


def test_conv_wta_tie_order():
    p = np.zeros((1, 2, 3, 4, 4), np.float32)
    p[0, :, 2, 3, 3] = 1  # same time and potential as the next two ...
    p[0, :, 1, 0, 0] = 1
    p[0, :, 1, 2, 0] = 1
    p[0, 1, 0, 0, 3] = 9  # later but larger: ranked after the ties
    w = conv_wta(p, 0, 4)
    # ties -> lowest (feature, y, x); feature 1's second neuron is excluded with its map
    np.testing.assert_array_equal(w, [[0, 1, 0, 0, 0], [0, 2, 0, 3, 3], [0, 0, 1, 0, 3]])


@needs_spyker
@pytest.mark.parametrize("radius", [0, 1, (1, 2)])
def test_conv_wta_matches_spyker(rng, radius):
    p = small_int_potentials(rng, (4, 6, 8, 12, 12), np.float32)
    th = 4.0
    ours = conv_wta(p, radius, 5, th)
    tmap, _ = first_spike(p, th)
    theirs = spyker.convwta(p, radius, 5, th)
    assert len(theirs) == p.shape[0]
    expected = [(b, w.z, w.y, w.x) for b, ws in enumerate(theirs) for w in ws]
    assert [tuple(r) for r in ours[:, [0, 1, 3, 4]]] == expected
    # documented difference: Spyker reports t=0, we report the first-spike step
    np.testing.assert_array_equal(ours[:, 2], tmap[ours[:, 0], ours[:, 1], ours[:, 3], ours[:, 4]])


@needs_spyker
def test_conv_wta_timemap_matches_spyker_sparse(rng):
    img = rng.random((4, 1, 14, 14)).astype(np.float32)
    T = 8
    kernel = rng.random((5, 1, 3, 3)).astype(np.float32)
    sp = spyker.sparse.conv(spyker.sparse.code(img, T), spyker.wrap_array(kernel), 2.0, 1, 1)
    tmap = spyker.to_numpy(spyker.sparse.gather(sp)).astype(np.int32)
    theirs = [(b, w.t, w.z, w.y, w.x) for b, ws in enumerate(spyker.sparse.convwta(sp, 2, 4)) for w in ws]
    # Spyker's sparse path has no potentials; with all-equal potentials our ties go to the
    # lowest (feature, y, x), which is the order of Spyker's event lists.
    ours = conv_wta_timemap(tmap, np.zeros(tmap.shape, np.float32), 2, 4, T=T)
    assert len(theirs) > 4
    assert [tuple(r) for r in ours[:, [0, 2, 1, 3, 4]]] == theirs


def test_conv_wta_bad_inputs():
    p = np.zeros((1, 2, 3, 4, 4), np.float32)
    with pytest.raises(ValueError, match="potentials"):
        conv_wta(p[0], 1, 2)
    with pytest.raises(TypeError, match="potentials"):
        conv_wta(p.astype(np.uint8), 1, 2)
    with pytest.raises(ValueError, match="potentials"):
        conv_wta(np.full_like(p, np.nan), 1, 2)
    with pytest.raises(ValueError, match="radius"):
        conv_wta(p, -1, 2)
    with pytest.raises(TypeError, match="radius"):
        conv_wta(p, 1.5, 2)
    with pytest.raises(ValueError, match="count"):
        conv_wta(p, 1, -1)
    with pytest.raises(TypeError, match="count"):
        conv_wta(p, 1, 2.0)
    with pytest.raises(ValueError, match="threshold"):
        conv_wta(p, 1, 2, threshold=np.inf)


# ----------------------------------------------------------------------------- conv_wta_timemap
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5, 9, 9), (1, 1, 1, 1), (2, 4, 1, 6)])
def test_conv_wta_timemap_matches_reference(rng, dtype, shape):
    T = 4
    tmap = rng.integers(0, T + 1, size=shape).astype(np.int32)
    spk = np.where(tmap < T, rng.integers(1, 3, size=shape), 0).astype(dtype)
    for radius, count in ((0, 3), (1, 5), ((2, 0), 9)):
        ry, rx = (radius, radius) if isinstance(radius, int) else radius
        np.testing.assert_array_equal(
            conv_wta_timemap(tmap, spk, radius, count, T=T), ref_conv_select(tmap, spk, T, ry, rx, count)
        )


def test_conv_wta_timemap_agrees_with_dense(rng):
    p = small_int_potentials(rng, (3, 6, 5, 9, 9), np.float64)
    tmap, spk = first_spike(p, 3.0)
    np.testing.assert_array_equal(conv_wta_timemap(tmap, spk, 2, 4, T=6), conv_wta(p, 2, 4, 3.0))


def test_conv_wta_timemap_all_silent_and_T_required():
    tmap = np.full((2, 3, 4, 4), 5, np.int32)
    spk = np.zeros(tmap.shape, np.float32)
    assert conv_wta_timemap(tmap, spk, 1, 3, 5).shape == (0, 5)
    tmap[1, 2, 3, 1] = 2
    np.testing.assert_array_equal(conv_wta_timemap(tmap, spk, 1, 3, 5), [[1, 2, 2, 3, 1]])
    # every neuron fired at the last step: with T given they are winners, not silent
    last = np.full((1, 1, 2, 2), 4, np.int32)
    assert len(conv_wta_timemap(last, np.ones(last.shape, np.float32), 0, 4, 5)) == 1
    with pytest.raises(TypeError):
        conv_wta_timemap(tmap, spk, 1, 3)  # T has no default


def test_conv_wta_timemap_bad_inputs():
    t = np.zeros((1, 2, 3, 3), np.int32)
    s = np.zeros((1, 2, 3, 3), np.float32)
    with pytest.raises(TypeError, match="tmap"):
        conv_wta_timemap(t.astype(np.uint8), s, 1, 1, T=4)
    with pytest.raises(ValueError, match="spike_potential"):
        conv_wta_timemap(t, s[..., :2], 1, 1, T=4)
    with pytest.raises(ValueError, match="tmap"):
        conv_wta_timemap(t - 1, s, 1, 1, T=4)
    with pytest.raises(ValueError, match="T"):
        conv_wta_timemap(t + 4, s, 1, 1, T=2)
    with pytest.raises(ValueError, match="spike_potential"):
        conv_wta_timemap(t, np.full_like(s, np.nan), 1, 1, T=4)


# ----------------------------------------------------------------------------- fc_wta
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5, 20), (1, 1, 1), (2, 1, 7), (4, 6, 3)])
@pytest.mark.parametrize("radius", [0, 1, 3])
def test_fc_wta_matches_reference(rng, dtype, shape, radius):
    p = small_int_potentials(rng, shape, dtype, monotone=False)
    for th, count in ((0.0, 4), (1.0, 50)):
        tmap, spk = ref_pair(p, th)
        np.testing.assert_array_equal(fc_wta(p, count, th, radius=radius), ref_fc_select(tmap, spk, shape[1], radius, count))


def test_fc_wta_all_zero():
    assert fc_wta(np.zeros((3, 4, 10)), 2).shape == (0, 5)


@needs_spyker
@pytest.mark.parametrize("radius", [0, 2])
def test_fc_wta_matches_spyker(rng, radius):
    p = small_int_potentials(rng, (5, 7, 40), np.float32)
    ours = fc_wta(p, 6, 5.0, radius=radius)
    theirs = [(b, w.x) for b, ws in enumerate(spyker.fcwta(p, radius, 6, 5.0)) for w in ws]
    assert len(theirs) > 5
    assert [tuple(r) for r in ours[:, :2]] == theirs


def test_fc_wta_bad_inputs():
    p = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match="potentials"):
        fc_wta(np.zeros((1, 2, 3, 4, 5), np.float32), 1)
    with pytest.raises(TypeError, match="potentials"):
        fc_wta(p.astype(np.int32), 1)
    with pytest.raises(ValueError, match="count"):
        fc_wta(p, -2)
    with pytest.raises(ValueError, match="radius"):
        fc_wta(p, 1, radius=-1)


# ----------------------------------------------------------------------------- properties
@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)),
    ry=st.integers(0, 3),
    rx=st.integers(0, 3),
    count=st.integers(0, 8),
    monotone=st.booleans(),
)
def test_conv_wta_properties(seed, shape, ry, rx, count, monotone):
    p = small_int_potentials(np.random.default_rng(seed), shape, np.float32, monotone)
    w = conv_wta(p, (ry, rx), count, 1.0)
    tmap, _ = first_spike(p, 1.0)
    T = shape[1]
    assert (np.diff(w[:, 0]) >= 0).all()  # grouped by batch, ascending
    for b in range(shape[0]):
        wb = w[w[:, 0] == b]
        assert len(wb) <= count
        assert len(set(wb[:, 1])) == len(wb)  # one winner per feature
        for i in range(len(wb)):
            assert wb[i, 2] == tmap[b, wb[i, 1], wb[i, 3], wb[i, 4]] < T  # winners fired
            for j in range(i):
                assert abs(wb[i, 3] - wb[j, 3]) > ry or abs(wb[i, 4] - wb[j, 4]) > rx
        assert (np.diff(wb[:, 2]) >= 0).all()  # earlier spikes are chosen first
        if len(wb) < count:  # stopped early: every fired neuron is excluded
            for c, y, x in zip(*np.nonzero(tmap[b] < T)):
                assert any(c == f or (abs(y - yy) <= ry and abs(x - xx) <= rx) for f, yy, xx in wb[:, [1, 3, 4]])


def test_parallel_path_matches_reference(rng, monkeypatch):
    """Force the multi-threaded kernels on a small input (normally run serially)."""
    from workbench.snn import num_threads

    monkeypatch.setattr(importlib.import_module("workbench._threads"), "PARALLEL_MIN_WORK", 0)
    p = small_int_potentials(rng, (5, 4, 6, 9, 9), np.float32, monotone=False)
    tmap, spk = ref_pair(p, 1.0)
    q = small_int_potentials(rng, (5, 4, 30), np.float64)
    qt, qs = ref_pair(q, 1.0)
    with num_threads(3):
        np.testing.assert_array_equal(conv_wta(p, 1, 4, 1.0), ref_conv_select(tmap, spk, 4, 1, 1, 4))
        np.testing.assert_array_equal(conv_wta_timemap(tmap, spk, 2, 3, T=4), ref_conv_select(tmap, spk, 4, 2, 2, 3))
        np.testing.assert_array_equal(fc_wta(q, 3, 1.0, radius=1), ref_fc_select(qt, qs, 4, 1, 3))


@needs_spyker
def test_conv_wta_exact_potential_ties_unlike_spyker():
    # Documented difference: Spyker ranks by potential + 2*max*(T-1-t) in float32, which
    # rounds 1.0 and 1.001 to the same score next to a large maximum (1e5); we compare
    # (time, potential) exactly and pick the larger potential.
    q = np.zeros((1, 2, 2, 1, 2), np.float32)
    q[0, :, 0, 0, 0] = [1.0, 1.0]
    q[0, :, 1, 0, 1] = [1.001, 1.001]
    q[0, 1, 0, 0, 1] = 1e5
    assert [(w.z, w.y, w.x) for w in spyker.convwta(q, 0, 1, 0.5)[0]] == [(0, 0, 0)]
    np.testing.assert_array_equal(conv_wta(q, 0, 1, 0.5), [[0, 1, 0, 0, 1]])


def test_huge_count_is_capped(rng):
    p = small_int_potentials(rng, (2, 3, 4, 5, 5), np.float32)
    np.testing.assert_array_equal(conv_wta(p, 0, 10**12, 1.0), conv_wta(p, 0, 4, 1.0))
    q = small_int_potentials(rng, (2, 3, 6), np.float32)
    np.testing.assert_array_equal(fc_wta(q, 10**12, 1.0), fc_wta(q, 6, 1.0))


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 12)),
    radius=st.integers(0, 4),
    count=st.integers(0, 8),
)
def test_fc_wta_properties(seed, shape, radius, count):
    p = small_int_potentials(np.random.default_rng(seed), shape, np.float64, monotone=False)
    w = fc_wta(p, count, 1.0, radius=radius)
    tmap, _ = first_spike(p, 1.0)
    assert (w[:, 3:] == 0).all() and (np.diff(w[:, 0]) >= 0).all()
    for b in range(shape[0]):
        wb = w[w[:, 0] == b]
        assert len(wb) <= count
        n = wb[:, 1]
        assert (np.abs(n[:, None] - n[None, :]) + np.eye(len(n), dtype=int) * (radius + 1) > radius).all()
        assert (wb[:, 2] == tmap[b, n]).all() and (wb[:, 2] < shape[1]).all()
        if len(wb) < count:  # stopped early: every fired neuron is within radius of a winner
            for m in np.nonzero(tmap[b] < shape[1])[0]:
                assert (np.abs(n - m) <= radius).any()


# ------------------------------------------------- candidate-list kernel (perf path)
def sparse_pair(rng, shape, T, dtype, density=0.1, signed=True):
    """Mostly-silent time map with potentials that may be negative, and exact ties."""
    tmap = np.where(rng.random(shape) < density, rng.integers(0, T, size=shape), T).astype(np.int32)
    low = -2 if signed else 1
    spk = np.where(tmap < T, rng.integers(low, 3, size=shape), 0).astype(dtype)
    return tmap, spk


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 7, 5, 19), (1, 3, 1, 17), (3, 30, 6, 6), (2, 2, 12, 3)])
@pytest.mark.parametrize("density", [0.03, 0.3, 1.0])
def test_conv_wta_timemap_sparse_signed_matches_reference(rng, dtype, shape, density):
    """Negative potentials, exact ties, wide rows, radius beyond the map and counts larger
    than the number of spikes all go through the candidate-list kernel."""
    T = 3
    tmap, spk = sparse_pair(rng, shape, T, dtype, density)
    for radius, count in ((0, 40), (1, 5), ((2, 0), 3), (50, 4), ((0, 3), 7)):
        ry, rx = (radius, radius) if isinstance(radius, int) else radius
        np.testing.assert_array_equal(
            conv_wta_timemap(tmap, spk, radius, count, T), ref_conv_select(tmap, spk, T, ry, rx, count)
        )


@pytest.mark.parametrize("count", [0, 3])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_conv_wta_timemap_checks_every_entry(rng, count, bad):
    """Checks are fused into the kernel's first pass: they must run for every entry,
    silent ones and the very last included, also when ``count`` is 0."""
    T = 4
    tmap, spk = sparse_pair(rng, (3, 4, 5, 6), T, np.float32)
    s = spk.copy()
    tmap[-1, -1, -1, -1] = T
    s[-1, -1, -1, -1] = bad
    with pytest.raises(ValueError, match="spike_potential"):
        conv_wta_timemap(tmap, s, 1, count, T)
    t = tmap.copy()
    t[-1, -1, -1, -1] = -3
    with pytest.raises(ValueError, match="non-negative"):
        conv_wta_timemap(t, spk, 1, count, T)
    t[-1, -1, -1, -1] = T + 1
    with pytest.raises(ValueError, match="T=4"):
        conv_wta_timemap(t, spk, 1, count, T)


def test_conv_wta_timemap_parallel_sparse(rng, monkeypatch):
    from workbench.snn import num_threads

    monkeypatch.setattr(importlib.import_module("workbench._threads"), "PARALLEL_MIN_WORK", 0)
    tmap, spk = sparse_pair(rng, (7, 6, 9, 11), 5, np.float64, 0.2)
    with num_threads(3):
        np.testing.assert_array_equal(conv_wta_timemap(tmap, spk, 2, 4, 5), ref_conv_select(tmap, spk, 5, 2, 2, 4))


def test_conv_wta_timemap_full_rows_are_returned_compact(rng):
    # every sample fills all `count` rows (the no-copy branch) or not (the masked branch)
    T = 2
    tmap = np.zeros((3, 4, 6, 6), np.int32)
    spk = rng.integers(1, 5, size=tmap.shape).astype(np.float32)
    full = conv_wta_timemap(tmap, spk, 0, 4, T)
    assert full.shape == (12, 5) and full.flags.c_contiguous and full.dtype == np.int32
    np.testing.assert_array_equal(full, ref_conv_select(tmap, spk, T, 0, 0, 4))
    tmap[1] = T  # sample 1 silent
    part = conv_wta_timemap(tmap, spk, 0, 4, T)
    np.testing.assert_array_equal(part, ref_conv_select(tmap, spk, T, 0, 0, 4))
    assert set(part[:, 0]) == {0, 2}


def test_conv_wta_threads_agree_repeatedly():
    # Regression: a selection index shared between OpenMP threads made 2-thread results
    # differ from 1-thread ones about once in 15 calls.
    from workbench import snn as _snn

    r = np.random.default_rng(7)
    tmap = r.integers(0, 8, (32, 12, 16, 16)).astype(np.int32)
    tmap[r.random(tmap.shape) < 0.9] = 8
    spk = r.integers(1, 4, tmap.shape).astype(np.float32)
    with _snn.num_threads(1):
        ref = conv_wta_timemap(tmap, spk, 2, 5, 8)
    with _snn.num_threads(2):
        for _ in range(30):
            np.testing.assert_array_equal(conv_wta_timemap(tmap, spk, 2, 5, 8), ref)
