"""Tests of workbench.snn._coding against plain NumPy references and Spyker 0.1.0."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.snn import (
    EventList,
    from_events,
    gather,
    infinite,
    rank_code,
    rank_code_timemap,
    rate_code,
    scatter,
    to_events,
)
from workbench.snn import num_threads

try:
    import spyker
except ImportError:  # pragma: no cover - exercised only without spyker
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")
DTYPES = [np.float32, np.float64]


# ----------------------------------------------------------------------------- references
def ref_rank_timemap(images: np.ndarray, T: int) -> np.ndarray:
    """Plain loops: rank values above the minimum (descending, ties by flat index)."""
    B = images.shape[0]
    out = np.empty(images.shape, dtype=np.int32).reshape(B, -1)
    for b in range(B):
        x = images[b].ravel()
        mn = x.min()
        above = [i for i in range(x.size) if x[i] > mn]
        # Python's sort is stable: equal values keep ascending index order.
        above.sort(key=lambda i: -float(x[i]))
        n = len(above)
        out[b, :] = T
        scale = np.float32(np.float32(T) + np.float32(1e-5)) / np.float32(n) if n else None
        for r, i in enumerate(above):
            out[b, i] = min(int(np.float32(r) * scale), T)
    return out.reshape(images.shape)


def ref_rank_exact(images: np.ndarray, T: int) -> np.ndarray:
    """The contract formula floor(r*T/n) in exact integer arithmetic."""
    B = images.shape[0]
    out = np.empty(images.shape, dtype=np.int32).reshape(B, -1)
    for b in range(B):
        x = images[b].ravel()
        mn = x.min()
        above = sorted((i for i in range(x.size) if x[i] > mn), key=lambda i: -float(x[i]))
        out[b, :] = T
        for r, i in enumerate(above):
            out[b, i] = (r * T) // len(above)
    return out.reshape(images.shape)


def ref_latency_timemap(images: np.ndarray, T: int) -> np.ndarray:
    """Linear latency: step = floor((T+eps) * (max - x) / (max - min)), min never."""
    B = images.shape[0]
    out = np.empty(images.shape, dtype=np.int32).reshape(B, -1)
    for b in range(B):
        x = images[b].ravel().astype(np.float64)
        mn, mx = x.min(), x.max()
        for i in range(x.size):
            if x[i] == mn:
                out[b, i] = T
            else:
                out[b, i] = min(max(int(np.floor((T + 1e-5) * (mx - x[i]) / (mx - mn))), 0), T)
    return out.reshape(images.shape)


def ref_gather(wave: np.ndarray) -> np.ndarray:
    B, T = wave.shape[:2]
    out = np.full((B,) + wave.shape[2:], T, dtype=np.int32)
    for idx in np.ndindex(*out.shape):
        b, rest = idx[0], idx[1:]
        for t in range(T):
            if wave[(b, t) + rest]:
                out[idx] = t
                break
    return out


def ref_scatter(tmap: np.ndarray, T: int) -> np.ndarray:
    out = np.zeros((tmap.shape[0], T) + tmap.shape[1:], dtype=np.uint8)
    for idx in np.ndindex(*tmap.shape):
        for t in range(T):
            out[(idx[0], t) + idx[1:]] = 1 if tmap[idx] <= t else 0
    return out


def spyker_tmap(images: np.ndarray, T: int, sort: bool) -> np.ndarray:
    # Spyker's own gather returns uint8 (wraps for T > 255): count the zeros of its
    # cumulative wave instead.
    w = spyker.code(images, T, sort=sort)
    return (T - w.astype(np.int64).sum(axis=1)).astype(np.int32)


# ------------------------------------------------------------------------------ rank code
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T", [1, 2, 5, 15, 64])
@pytest.mark.parametrize("shape", [(3, 2, 5, 4), (1, 1, 1, 1), (1, 1, 7, 1), (2, 3, 1, 9)])
def test_rank_timemap_matches_reference(rng, dtype, T, shape):
    x = rng.random(shape).astype(dtype)
    got = rank_code_timemap(x, T)
    np.testing.assert_array_equal(got, ref_rank_timemap(x, T))
    # For these sizes the float32 formula is the exact floor(r*T/n) of the contract.
    np.testing.assert_array_equal(got, ref_rank_exact(x, T))
    assert got.dtype == np.int32 and got.shape == shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_rank_ties_by_flat_index(dtype):
    x = np.array([0, 1, 2, 2, 2, 2, 3], dtype=dtype).reshape(1, 1, 1, 7)
    # n = 6 values above the minimum; ranks: 3 -> 0, the four 2s -> 1..4 (index order), 1 -> 5
    np.testing.assert_array_equal(rank_code_timemap(x, 6).ravel(), [6, 5, 1, 2, 3, 4, 0])
    np.testing.assert_array_equal(rank_code_timemap(x, 4).ravel(), [4, 3, 0, 1, 2, 2, 0])
    # negative zero ties with zero
    z = np.array([1.0, -0.0, 0.0, -1.0], dtype=dtype).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(rank_code_timemap(z, 3).ravel(), [0, 1, 2, 3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sort", [True, False])
def test_constant_and_zero_input_never_fire(dtype, sort):
    for value in (0.0, 3.5, -2.0):
        x = np.full((2, 3, 4, 5), value, dtype=dtype)
        assert (rank_code_timemap(x, 7, sort=sort) == 7).all()
        assert not rank_code(x, 7, sort=sort).any()


def test_rank_T1_and_single_pixel(rng):
    x = rng.random((4, 2, 3, 3)).astype(np.float32)
    tm = rank_code_timemap(x, 1)
    # T=1: every value above the minimum fires at step 0, the minimum never.
    expected = np.where(x > x.reshape(4, -1).min(axis=1)[:, None, None, None], 0, 1)
    np.testing.assert_array_equal(tm, expected)
    one = np.array([[[[5.0]]]], dtype=np.float32)
    assert rank_code_timemap(one, 3).item() == 3  # a single value is its own minimum
    assert rank_code(one, 3).shape == (1, 3, 1, 1, 1)


@pytest.mark.parametrize("sort", [True, False])
def test_rank_code_wave_is_scatter_of_timemap(rng, sort):
    x = rng.random((3, 2, 6, 5))
    x[0, 0, :2] = 0.25  # ties
    w = rank_code(x, 9, sort=sort)
    assert w.dtype == np.uint8 and w.shape == (3, 9, 2, 6, 5)
    np.testing.assert_array_equal(w, ref_scatter(rank_code_timemap(x, 9, sort=sort), 9))
    np.testing.assert_array_equal(gather(w), rank_code_timemap(x, 9, sort=sort))


def test_threads_do_not_change_result(rng):
    x = rng.random((9, 3, 8, 8)).astype(np.float32)
    with num_threads(1):
        a = rank_code_timemap(x, 15)
        c = rank_code_timemap(x, 15, sort=False)
    with num_threads(3):
        b = rank_code_timemap(x, 15)
        d = rank_code_timemap(x, 15, sort=False)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, d)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=4),
        elements=st.floats(-4, 4, allow_nan=False, width=32),
    ),
    st.integers(1, 20),
)
def test_rank_properties(x, T):
    tm = rank_code_timemap(x, T)
    np.testing.assert_array_equal(tm, ref_rank_exact(x, T))
    B = x.shape[0]
    flat, tflat = x.reshape(B, -1), tm.reshape(B, -1)
    for b in range(B):
        # larger value never fires later; minimum never fires; the maximum fires at 0
        order = np.argsort(-flat[b], kind="stable")
        assert np.all(np.diff(tflat[b][order]) >= 0)
        assert np.all(tflat[b][flat[b] == flat[b].min()] == T)
        if flat[b].max() > flat[b].min():
            assert tflat[b][np.argmax(flat[b])] == 0


# --------------------------------------------------------------------------- latency code
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T", [1, 3, 15, 100])
def test_latency_matches_reference(rng, dtype, T):
    x = (rng.random((3, 2, 5, 7)) * 10 - 3).astype(dtype)
    got = rank_code_timemap(x, T, sort=False)
    ref = ref_latency_timemap(x, T)
    # The kernel reproduces Spyker's float32 rounding; the float64 reference can differ
    # by one step only where the exact value sits on a bin edge.
    assert np.abs(got - ref).max() <= 1
    assert (got == ref).mean() > 0.97
    # exact on values whose scaled position is far from a bin edge
    B = x.shape[0]
    flat = x.reshape(B, -1).astype(np.float64)
    mn, mx = flat.min(1, keepdims=True), flat.max(1, keepdims=True)
    pos = (T + 1e-5) * (mx - flat) / (mx - mn)
    safe = np.abs(pos - np.round(pos)) > 1e-3
    np.testing.assert_array_equal(got.reshape(B, -1)[safe], ref.reshape(B, -1)[safe])


def test_latency_known_values():
    x = np.array([0, 1, 10, 100, 1000, 2], dtype=np.float32).reshape(1, 1, 1, 6)
    np.testing.assert_array_equal(rank_code_timemap(x, 4, sort=False).ravel(), [4, 3, 3, 3, 0, 3])
    x = np.array([-5, -3, -1, 0, 4], dtype=np.float64).reshape(1, 1, 1, 5)
    np.testing.assert_array_equal(rank_code_timemap(x, 10, sort=False).ravel(), [10, 7, 5, 4, 0])


# ------------------------------------------------------------------------------ vs spyker
@needs_spyker
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T", [1, 4, 15, 100, 1000])
def test_rank_matches_spyker(rng, dtype, T):
    # Distinct values (a permutation scaled), so Spyker's unstable sort cannot matter.
    B, shape = 3, (3, 2, 9, 11)
    x = np.stack([rng.permutation(198) for _ in range(B)]).reshape(shape).astype(dtype) / 7
    got = rank_code_timemap(x, T)
    ref = spyker_tmap(x, T, True)
    # Spyker may round the minimum's rank n down to T-1 (documented difference).
    is_min = x == x.reshape(B, -1).min(1)[:, None, None, None]
    np.testing.assert_array_equal(got[~is_min], ref[~is_min])
    assert (got[is_min] == T).all()


@needs_spyker
@pytest.mark.parametrize("dtype", DTYPES)
def test_rank_ties_match_spyker_as_multisets(rng, dtype):
    x = (np.round(rng.random((2, 1, 20, 30)) * 12) / 12).astype(dtype)
    got = rank_code_timemap(x, 10)
    ref = spyker_tmap(x, 10, True)
    for b in range(2):
        for v in np.unique(x[b]):
            sel = x[b] == v
            if v == x[b].min():
                continue
            np.testing.assert_array_equal(np.sort(got[b][sel]), np.sort(ref[b][sel]))


@needs_spyker
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("T", [1, 4, 15, 255, 1000])
def test_latency_matches_spyker(rng, dtype, T):
    x = rng.random((3, 2, 13, 17))
    x[1] = np.round(x[1] * 5) / 5  # ties and exact bin edges
    x = x.astype(dtype)
    np.testing.assert_array_equal(rank_code_timemap(x, T, sort=False), spyker_tmap(x, T, False))


@needs_spyker
def test_wave_matches_spyker_wave(rng):
    x = rng.permutation(60).reshape(2, 1, 5, 6).astype(np.float32)
    for sort in (True, False):
        np.testing.assert_array_equal(rank_code(x, 7, sort=sort), spyker.code(x, 7, sort=sort))


@needs_spyker
def test_constant_input_differs_from_spyker_deliberately():
    x = np.zeros((1, 1, 2, 2), dtype=np.float32)
    # Spyker: every neuron fires at step 0 (division by zero); ours: nothing fires.
    assert spyker.code(x, 3).all()
    assert not rank_code(x, 3).any()


# ------------------------------------------------------------------------------ rate code
def test_rate_code_statistics():
    levels = np.linspace(0, 1, 5)
    x = np.tile(levels, 200).reshape(1, 1, 40, 25)
    T = 200
    w = rate_code(x, T, seed=3)
    assert w.dtype == np.uint8 and w.shape == (1, T, 1, 40, 25)
    counts = w[0, -1].astype(float).ravel()
    # Count ~ Binomial(T, p) with p = level: mean within 5 standard errors.
    for k, p in enumerate(levels):
        c = counts[k::5]
        se = np.sqrt(T * p * (1 - p) / c.size) + 1e-9
        assert abs(c.mean() - T * p) <= 5 * se + 1e-9
    assert (counts[0::5] == 0).all()  # minimum never spikes
    assert (counts[4::5] == T).all()  # maximum spikes every step (p = 1)
    # cumulative counts are non-decreasing and grow by at most 1 per step
    d = np.diff(w.astype(int), axis=1)
    assert d.min() >= 0 and d.max() <= 1


def test_rate_code_reproducible_and_edge_cases(rng):
    x = rng.random((2, 2, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(rate_code(x, 10, seed=5), rate_code(x, 10, seed=5))
    assert not np.array_equal(rate_code(x, 30, seed=5), rate_code(x, 30, seed=6))
    g = np.random.default_rng(7)
    assert rate_code(x, 3, seed=g).shape == (2, 3, 2, 4, 4)
    assert not rate_code(np.zeros((1, 1, 3, 3)), 5, seed=0).any()
    assert rate_code(np.ones((1, 1, 1, 1), np.float32), 1, seed=0).shape == (1, 1, 1, 1, 1)
    # saturates at 255 rather than wrapping
    big = np.array([[[[0.0, 1.0]]]])
    assert rate_code(big, 300, seed=0)[0, -1, 0, 0, 1] == 255


@needs_spyker
def test_rate_code_like_spyker_statistics():
    # Spyker's own rate code is unseeded and not monotone in intensity at low rates (measured
    # with spyker.random_seed(0), T=5: mean counts 0.84, 0.56, 1.08, 2.12 for intensities
    # 0, 1/3, 2/3, 1), so only its shape and dtype are compared; our counts follow T * p.
    x = np.tile(np.linspace(0, 1, 4, dtype=np.float32), 100).reshape(1, 1, 20, 20)
    T = 50
    ours = rate_code(x, T, seed=0)
    theirs = spyker.code(x, T, code="rate")
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
    counts = ours[0, -1].astype(float).ravel()
    means = np.array([counts[k::4].mean() for k in range(4)])
    np.testing.assert_allclose(means, T * np.array([0, 1 / 3, 2 / 3, 1]), atol=2.0)


# ------------------------------------------------------------------ gather / scatter / inf
def test_gather_scatter_reference(rng):
    T = 6
    tmap = rng.integers(0, T + 1, size=(3, 2, 4, 5)).astype(np.int32)
    w = scatter(tmap, T)
    np.testing.assert_array_equal(w, ref_scatter(tmap, T))
    np.testing.assert_array_equal(gather(w), tmap)
    # gather on a non-cumulative wave takes the first non-zero step
    raw = (rng.random((2, 5, 3, 2, 2)) < 0.3).astype(np.uint8) * rng.integers(1, 4, (2, 5, 3, 2, 2)).astype(np.uint8)
    np.testing.assert_array_equal(gather(raw), ref_gather(raw))
    # edge cases: T=1, all zero, 1x1
    assert (gather(np.zeros((1, 1, 1, 1, 1), np.uint8)) == 1).all()
    assert (gather(np.ones((1, 1, 1, 1, 1), np.uint8)) == 0).all()
    np.testing.assert_array_equal(scatter(np.array([[[[0, 1]]]], np.int32), 1), [[[[[1, 0]]]]])


@needs_spyker
def test_gather_matches_spyker(rng):
    w = np.cumsum(rng.random((2, 6, 3, 4, 5)) < 0.2, axis=1).clip(0, 1).astype(np.uint8)
    ref = spyker.gather(w).astype(np.int32)
    np.testing.assert_array_equal(gather(w), ref)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 12), st.data())
def test_gather_scatter_roundtrip(T, data):
    shape = data.draw(hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=4))
    tmap = data.draw(hnp.arrays(np.int32, shape, elements=st.integers(0, T)))
    w = scatter(tmap, T)
    np.testing.assert_array_equal(gather(w), tmap)
    np.testing.assert_array_equal(scatter(gather(w), T), w)
    g = gather(w)
    assert g.min() >= 0 and g.max() <= T


def test_infinite(rng):
    tmap = rng.integers(0, 5, size=(2, 3, 2, 2)).astype(np.int32)
    w = scatter(tmap, 4)
    before = w.copy()
    out = infinite(w)
    np.testing.assert_array_equal(w, before)  # not in place
    assert out[:, -1].all()
    np.testing.assert_array_equal(out[:, :-1], w[:, :-1])
    np.testing.assert_array_equal(gather(out), np.minimum(tmap, 3))
    assert infinite(np.zeros((1, 1, 1, 1, 1), np.uint8)).item() == 1


# ---------------------------------------------------------------------------- event lists
def test_events_roundtrip_and_order(rng):
    T = 5
    tmap = rng.integers(0, T + 1, size=(3, 2, 4, 3)).astype(np.int32)
    ev = to_events(tmap, T)
    assert isinstance(ev, EventList)
    assert len(ev) == int((tmap < T).sum())
    for f in ("batch", "channel", "y", "x", "time"):
        assert getattr(ev, f).dtype == np.int32
    keys = list(zip(ev.batch, ev.time, ev.channel, ev.y, ev.x))
    assert keys == sorted(keys)
    np.testing.assert_array_equal(tmap[ev.batch, ev.channel, ev.y, ev.x], ev.time)
    np.testing.assert_array_equal(from_events(ev), tmap)
    assert ev.shape == tmap.shape and ev.T == T
    assert to_events(tmap, T) == ev
    # no events at all; default T = max
    none = np.full((1, 1, 2, 2), 4, np.int32)
    assert len(to_events(none)) == 0 and (from_events(to_events(none)) == 4).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.data())
def test_events_roundtrip_property(T, data):
    shape = data.draw(hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=4))
    tmap = data.draw(hnp.arrays(np.int32, shape, elements=st.integers(0, T)))
    np.testing.assert_array_equal(from_events(to_events(tmap, T)), tmap)


# ------------------------------------------------------------------------------ bad input
def test_bad_inputs():
    good = np.ones((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match="images"):
        rank_code(np.ones((2, 2, 2), np.float32), 3)
    with pytest.raises(TypeError, match="images"):
        rank_code_timemap(np.ones((1, 1, 2, 2), np.int64), 3)
    with pytest.raises(TypeError, match="images"):
        rate_code([[[[1.0]]]], 3)
    bad = good.copy()
    bad[0, 0, 0, 0] = np.nan
    for f in (rank_code, rank_code_timemap, rate_code):
        with pytest.raises(ValueError, match="images"):
            f(bad, 3)
        with pytest.raises(ValueError, match="T"):
            f(good, 0)
        with pytest.raises(TypeError, match="T"):
            f(good, 2.5)
    with pytest.raises(ValueError, match="images"):
        rank_code(np.ones((0, 1, 2, 2), np.float32), 3)
    with pytest.raises(TypeError, match="sort"):
        rank_code(good, 3, sort="yes")
    with pytest.raises(TypeError, match="seed"):
        rate_code(good, 3, seed=1.5)
    with pytest.raises(TypeError, match="wave"):
        gather(np.ones((1, 2, 1, 1, 1), np.int32))
    with pytest.raises(ValueError, match="wave"):
        gather(np.ones((1, 2, 1, 1), np.uint8))
    with pytest.raises(ValueError, match="tmap"):
        scatter(np.full((1, 1, 1, 1), 4, np.int32), 3)
    with pytest.raises(ValueError, match="tmap"):
        scatter(np.full((1, 1, 1, 1), -1, np.int32), 3)
    with pytest.raises(TypeError, match="tmap"):
        scatter(np.zeros((1, 1, 1, 1), np.int64), 3)
    with pytest.raises(ValueError, match="T"):
        scatter(np.zeros((1, 1, 1, 1), np.int32), 0)
    with pytest.raises(TypeError, match="wave"):
        infinite(np.zeros((1, 1, 1, 1, 1), np.float32))
    with pytest.raises(TypeError, match="events"):
        from_events("x")
    ev = to_events(np.zeros((1, 1, 1, 2), np.int32), 3)
    broken = EventList(ev.batch, ev.channel, ev.y, ev.x + 5, ev.time, ev.shape, ev.T)
    with pytest.raises(ValueError, match="events.x"):
        from_events(broken)
    with pytest.raises(ValueError, match="tmap"):
        to_events(np.full((1, 1, 1, 1), 5, np.int32), 3)


# -------------------------------------------------------------------------- real MNIST
def _read_mnist_images(path, n):
    import gzip

    with gzip.open(path, "rb") as f:
        head = f.read(16)
        rows, cols = int.from_bytes(head[8:12], "big"), int.from_bytes(head[12:16], "big")
        data = f.read(n * rows * cols)
    return np.frombuffer(data, dtype=np.uint8).reshape(n, 1, rows, cols)


@pytest.mark.data
@needs_spyker
def test_mnist_front_end_matches_spyker(data_file):
    imgs = _read_mnist_images(data_file("mnist/t10k-images-idx3-ubyte.gz"), 16).astype(np.float32) / 255
    dog = spyker.DoG(3, [spyker.DoGFilter(1, 2), spyker.DoGFilter(2, 1)], pad=3)
    x = dog(imgs)  # (16, 2, 28, 28) float32, Spyker's own filter output
    assert x.shape == (16, 2, 28, 28)
    for sort in (True, False):
        got = rank_code_timemap(x, 15, sort=sort)
        ref = spyker_tmap(x, 15, sort)
        flat_x, g, r = x.reshape(16, -1), got.reshape(16, -1), ref.reshape(16, -1)
        for b in range(16):
            # exact outside tie groups; equal multisets inside (Spyker's sort is unstable)
            vals, inv, counts = np.unique(flat_x[b], return_inverse=True, return_counts=True)
            single = counts[inv] == 1
            np.testing.assert_array_equal(g[b][single], r[b][single])
            for k in np.nonzero(counts > 1)[0]:
                if vals[k] == vals[0]:
                    assert (g[b][inv == k] == 15).all()  # the minimum (0: background) never fires
                    continue
                np.testing.assert_array_equal(np.sort(g[b][inv == k]), np.sort(r[b][inv == k]))
