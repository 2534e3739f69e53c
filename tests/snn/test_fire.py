"""Tests of workbench.snn._fire: threshold, quantize, fire (rank/rate), first_spike."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import fire, first_spike, quantize, threshold

try:
    import spyker
except ImportError:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker (reference simulator) is not installed")
FLOATS = [np.float32, np.float64]


# ----------------------------------------------------------------------------- references
def ref_threshold(x, th, value):
    out = x.copy().ravel()
    for i in range(out.size):
        if out[i] <= x.dtype.type(th):
            out[i] = value
    return out.reshape(x.shape)


def ref_quantize(x, lo, mid, up):
    out = x.copy().ravel()
    for i in range(out.size):
        out[i] = lo if out[i] < x.dtype.type(mid) else up
    return out.reshape(x.shape)


def ref_rank_fire(p, th):
    B, T = p.shape[:2]
    flat = p.reshape(B, T, -1)
    out = np.zeros(flat.shape, np.uint8)
    for b in range(B):
        for n in range(flat.shape[2]):
            fired = False
            for t in range(T):
                fired = fired or bool(flat[b, t, n] > p.dtype.type(th))
                out[b, t, n] = fired
    return out.reshape(p.shape)


def ref_rate_fire(p, th):
    """Spike when the potential exceeds the potential at the previous spike by > th."""
    B, T = p.shape[:2]
    flat = p.reshape(B, T, -1)
    out = np.zeros(flat.shape, np.uint8)
    th = p.dtype.type(th)
    for b in range(B):
        for n in range(flat.shape[2]):
            level, count = p.dtype.type(0), 0
            for t in range(T):
                if level + th < flat[b, t, n]:
                    level, count = flat[b, t, n], count + 1
                out[b, t, n] = count
    return out.reshape(p.shape)


def ref_first_spike(p, th):
    B, T = p.shape[:2]
    flat = p.reshape(B, T, -1)
    tmap = np.full((B, flat.shape[2]), T, np.int32)
    spk = np.zeros((B, flat.shape[2]), p.dtype)
    for b in range(B):
        for n in range(flat.shape[2]):
            for t in range(T):
                if flat[b, t, n] > p.dtype.type(th):
                    tmap[b, n], spk[b, n] = t, flat[b, t, n]
                    break
    shape = (B, *p.shape[2:])
    return tmap.reshape(shape), spk.reshape(shape)


def small_int_potentials(rng, shape, dtype, monotone=True):
    """Small-integer potentials: many exact ties, exactly representable."""
    steps = rng.integers(0 if monotone else -2, 3, size=shape)
    return np.cumsum(steps, axis=1).astype(dtype)


# ----------------------------------------------------------------------------- threshold / quantize
@pytest.mark.parametrize("dtype", FLOATS)
def test_threshold_matches_reference(rng, dtype):
    x = rng.integers(-3, 4, size=(2, 3, 4, 5)).astype(dtype)
    out = threshold(x, 1.0, value=-7.0)
    np.testing.assert_array_equal(out, ref_threshold(x, 1.0, -7.0))
    assert out.dtype == dtype and out is not x
    # boundary: the entry equal to the threshold is replaced
    assert threshold(np.array([1.0, 1.5], dtype), 1.0)[0] == 0.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_quantize_matches_reference(rng, dtype):
    x = rng.integers(-3, 4, size=(3, 7)).astype(dtype)
    out = quantize(x, -1.0, 0.0, 2.0)
    np.testing.assert_array_equal(out, ref_quantize(x, -1.0, 0.0, 2.0))
    assert out.dtype == dtype
    # boundary: equal to middle -> upper
    assert quantize(np.array([0.0], dtype), -1.0, 0.0, 2.0)[0] == 2.0


@needs_spyker
@pytest.mark.parametrize("dtype", FLOATS)
def test_threshold_quantize_match_spyker(rng, dtype):
    x = rng.integers(-3, 4, size=(2, 4, 3, 5, 5)).astype(dtype)
    np.testing.assert_array_equal(threshold(x, 1.0, 0.5), spyker.threshold(x.copy(), 1.0, 0.5))
    np.testing.assert_array_equal(quantize(x, -1.0, 1.0, 3.0), spyker.quantize(x.copy(), -1.0, 1.0, 3.0))


def test_threshold_quantize_bad_inputs():
    with pytest.raises(TypeError, match="potentials"):
        threshold(np.zeros(3, np.int32), 0.0)
    with pytest.raises(TypeError, match="potentials"):
        threshold([0.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="potentials"):
        threshold(np.array([np.nan]), 0.0)
    with pytest.raises(ValueError, match="threshold"):
        threshold(np.zeros(3), np.inf)
    with pytest.raises(TypeError, match="value"):
        threshold(np.zeros(3), 0.0, value="a")
    with pytest.raises(TypeError, match="x"):
        quantize(np.zeros(3, np.uint8), 0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="middle"):
        quantize(np.zeros(3), 0.0, np.nan, 1.0)


# ----------------------------------------------------------------------------- fire
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5, 4, 6, 6), (2, 7, 9), (1, 1, 1, 1, 1), (1, 4, 1, 1, 1), (2, 1, 5)])
@pytest.mark.parametrize("monotone", [True, False])
def test_fire_rank_matches_reference(rng, dtype, shape, monotone):
    p = small_int_potentials(rng, shape, dtype, monotone)
    for th in (0.0, 1.5, -1.0):
        out = fire(p, th)
        assert out.dtype == np.uint8 and out.shape == p.shape
        np.testing.assert_array_equal(out, ref_rank_fire(p, th))
        # cumulative: never 1 -> 0
        assert (np.diff(out.astype(np.int8), axis=1) >= 0).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 6, 4, 5, 5), (2, 9, 7), (1, 1, 1, 1, 1)])
def test_fire_rate_matches_reference(rng, dtype, shape):
    p = rng.normal(size=shape).cumsum(axis=1).astype(dtype)
    for th in (0.0, 0.7):
        np.testing.assert_array_equal(fire(p, th, method="rate"), ref_rate_fire(p, th))


def test_fire_all_zero_input():
    p = np.zeros((2, 4, 3, 2, 2), np.float32)
    assert not fire(p).any()
    assert not fire(p, method="rate").any()
    assert fire(p, -0.5).all()  # 0 > -0.5 at every step


def test_fire_rate_counts_known_sequence():
    p = np.array([0.5, 1.5, 1.6, 3.0, 3.0, 7.0], np.float32).reshape(1, 6, 1)
    assert fire(p, 1.0, method="rate").ravel().tolist() == [0, 1, 1, 2, 2, 3]
    assert fire(p, 1.0).ravel().tolist() == [0, 1, 1, 1, 1, 1]


@needs_spyker
@pytest.mark.parametrize("dtype", FLOATS)
def test_fire_matches_spyker(rng, dtype):
    p = small_int_potentials(rng, (3, 6, 4, 7, 7), dtype)
    np.testing.assert_array_equal(fire(p, 2.0), np.asarray(spyker.fire(p, 2.0)))
    q = rng.normal(size=(3, 8, 4, 5, 5)).cumsum(axis=1).astype(dtype)
    np.testing.assert_array_equal(fire(q, 0.5, method="rate"), np.asarray(spyker.fire(q, 0.5, code="rate")))


@needs_spyker
def test_fire_signed_differs_from_spyker_only_by_cumulation(rng):
    # Documented difference: with falling potentials Spyker un-fires; ours stays fired.
    p = small_int_potentials(rng, (2, 8, 3, 5, 5), np.float32, monotone=False)
    theirs = np.asarray(spyker.fire(p, 1.0))
    np.testing.assert_array_equal(fire(p, 1.0), np.maximum.accumulate(theirs, axis=1))
    assert (theirs != fire(p, 1.0)).any()  # the inputs do exercise the difference


def test_fire_bad_inputs():
    with pytest.raises(ValueError, match="potentials"):
        fire(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(TypeError, match="potentials"):
        fire(np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(ValueError, match="potentials"):
        fire(np.full((1, 2, 3), np.inf))
    with pytest.raises(ValueError, match="potentials"):
        fire(np.zeros((0, 2, 3)))
    with pytest.raises(ValueError, match="method"):
        fire(np.zeros((1, 2, 3)), method="latency")
    with pytest.raises(ValueError, match="potentials"):
        fire(np.zeros((1, 256, 1)), method="rate")
    with pytest.raises(TypeError, match="threshold"):
        fire(np.zeros((1, 2, 3)), threshold=None)


# ----------------------------------------------------------------------------- first_spike
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 5, 4, 6, 6), (2, 7, 9), (1, 1, 1, 1, 1), (1, 3, 2, 1, 1)])
@pytest.mark.parametrize("monotone", [True, False])
def test_first_spike_matches_reference(rng, dtype, shape, monotone):
    p = small_int_potentials(rng, shape, dtype, monotone)
    tmap, spk = first_spike(p, 1.0)
    rt, rs = ref_first_spike(p, 1.0)
    assert tmap.dtype == np.int32 and spk.dtype == dtype
    np.testing.assert_array_equal(tmap, rt)
    np.testing.assert_array_equal(spk, rs)


def test_first_spike_all_zero():
    tmap, spk = first_spike(np.zeros((2, 3, 4, 2, 2)), 0.0)
    assert (tmap == 3).all() and (spk == 0).all()


@needs_spyker
@pytest.mark.parametrize("monotone", [True, False])
def test_first_spike_matches_spyker_gather(rng, monotone):
    p = small_int_potentials(rng, (3, 7, 4, 6, 6), np.float32, monotone)
    tmap, _ = first_spike(p, 1.0)
    np.testing.assert_array_equal(tmap, np.asarray(spyker.gather(p, 1.0)).astype(np.int32))


def test_first_spike_consistent_with_fire(rng):
    p = small_int_potentials(rng, (2, 6, 3, 4, 4), np.float64, monotone=False)
    tmap, _ = first_spike(p, 0.5)
    wave = fire(p, 0.5)
    T = p.shape[1]
    # the wave's first 1 is the time map (T when it never fires)
    expected = np.where(wave.any(axis=1), wave.argmax(axis=1), T)
    np.testing.assert_array_equal(tmap, expected)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    N=st.integers(1, 8),
    th=st.floats(-3, 3, allow_nan=False),
)
def test_first_spike_property(seed, B, T, N, th):
    """The spike potential is above threshold exactly where the neuron fired, and every
    earlier step is at or below it."""
    p = np.random.default_rng(seed).normal(size=(B, T, N)).astype(np.float32) * 2
    tmap, spk = first_spike(p, th)
    thr = np.float32(th)
    for b in range(B):
        for n in range(N):
            t = tmap[b, n]
            assert (p[b, :t, n] <= thr).all()
            if t < T:
                assert spk[b, n] == p[b, t, n] > thr
            else:
                assert spk[b, n] == 0


def test_parallel_path_matches_reference(rng, monkeypatch):
    """Force the multi-threaded kernels on a small input (normally run serially)."""
    from workbench.snn import num_threads

    monkeypatch.setattr(importlib.import_module("workbench._threads"), "PARALLEL_MIN_WORK", 0)
    p = small_int_potentials(rng, (5, 4, 3, 6, 6), np.float32, monotone=False)
    with num_threads(3):
        np.testing.assert_array_equal(fire(p, 1.0), ref_rank_fire(p, 1.0))
        np.testing.assert_array_equal(fire(p, 1.0, method="rate"), ref_rate_fire(p, 1.0))
        for got, want in zip(first_spike(p, 1.0), ref_first_spike(p, 1.0)):
            np.testing.assert_array_equal(got, want)


def test_non_contiguous_input(rng):
    p = small_int_potentials(rng, (2, 5, 3, 6, 8), np.float32)[:, :, :, ::2, 1::2]
    assert not p.flags.c_contiguous
    np.testing.assert_array_equal(fire(p, 1.0), ref_rank_fire(np.ascontiguousarray(p), 1.0))
    for got, want in zip(first_spike(p, 1.0), ref_first_spike(np.ascontiguousarray(p), 1.0)):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- fused checks (perf path)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 3, 37), (3, 4, 2, 5, 7), (1, 2, 1)])
def test_fused_kernels_match_reference_on_float_values(rng, dtype, shape):
    """Non-integer values (rounding at the threshold compare happens in the array dtype)
    and row lengths that are not a multiple of the vector width."""
    p = rng.normal(size=shape).astype(dtype)
    for th in (0.0, 0.3, -0.7):
        np.testing.assert_array_equal(fire(p, th), ref_rank_fire(p, th))
        for got, want in zip(first_spike(p, th), ref_first_spike(p, th)):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["first", "last"])
def test_fused_finiteness_checks_every_entry(rng, dtype, bad, where):
    """fire (rank) and first_spike check finiteness inside their kernels: a bad value at
    the very first or very last entry, already-fired neuron or not, must raise."""
    from workbench.snn import conv_wta, fc_wta, inhibit

    p = small_int_potentials(rng, (3, 4, 2, 3, 5), dtype)
    p[(0,) * 5 if where == "first" else (-1,) * 5] = bad
    with pytest.raises(ValueError, match="potentials"):
        fire(p, 0.5)
    with pytest.raises(ValueError, match="potentials"):
        first_spike(p, 0.5)
    with pytest.raises(ValueError, match="potentials"):
        inhibit(p, 0.5)
    with pytest.raises(ValueError, match="potentials"):
        conv_wta(p, 1, 2, 0.5)
    with pytest.raises(ValueError, match="potentials"):
        fc_wta(p.reshape(3, 4, -1), 2, 0.5)
    with pytest.raises(ValueError, match="potentials"):
        fire(p, 0.5, method="rate")  # rate firing keeps the NumPy check


def test_first_spike_output_does_not_depend_on_previous_calls(rng):
    # the kernel initialises its own (uninitialised) outputs: run twice on different data
    p = small_int_potentials(rng, (2, 3, 11), np.float32)
    first_spike(p + 100, 0.0)
    for got, want in zip(first_spike(p, 1.0), ref_first_spike(p, 1.0)):
        np.testing.assert_array_equal(got, want)
