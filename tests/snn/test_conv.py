"""Tests of workbench.snn._conv: conv, Conv, conv_fire_timemap (dense and event-driven)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench.snn as snn
from workbench.snn._conv import Conv, conv, conv_fire_timemap, conv_output_shape
from workbench._threads import num_threads

try:
    import spyker
except ImportError:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")


# ----------------------------------------------------------------------------- references
def wave_from_tmap(tmap: np.ndarray, T: int) -> np.ndarray:
    """Cumulative wave (B, T, C, H, W): 1 from the first-spike step on."""
    t = np.arange(T).reshape(1, T, 1, 1, 1)
    return (t >= tmap[:, None]).astype(np.uint8)


def random_tmap(rng, B, C, H, W, T, p_never=0.3) -> np.ndarray:
    tm = rng.integers(0, T, size=(B, C, H, W))
    tm[rng.random(tm.shape) < p_never] = T
    return tm.astype(np.int32)


def ref_conv_loops(wave, weight, stride=(1, 1), padding=(0, 0)) -> np.ndarray:
    """Per-step cross-correlation with plain loops, in float64."""
    B, T, C, H, W = wave.shape
    F, _, kh, kw = weight.shape
    sy, sx = stride
    py, px = padding
    x = np.zeros((B, T, C, H + 2 * py, W + 2 * px))
    x[:, :, :, py : py + H, px : px + W] = wave
    Ho = (H + 2 * py - kh) // sy + 1
    Wo = (W + 2 * px - kw) // sx + 1
    out = np.zeros((B, T, F, Ho, Wo))
    w = weight.astype(np.float64)
    for b in range(B):
        for t in range(T):
            for f in range(F):
                for i in range(Ho):
                    for j in range(Wo):
                        s = 0.0
                        for c in range(C):
                            for u in range(kh):
                                for v in range(kw):
                                    s += x[b, t, c, i * sy + u, j * sx + v] * w[f, c, u, v]
                        out[b, t, f, i, j] = s
    return out


def ref_conv_einsum(wave, weight, stride=(1, 1), padding=(0, 0)) -> np.ndarray:
    """Per-step cross-correlation through explicit patches + einsum, in float64."""
    B, T, C, H, W = wave.shape
    F, _, kh, kw = weight.shape
    sy, sx = stride
    py, px = padding
    x = np.pad(wave.astype(np.float64), ((0, 0), (0, 0), (0, 0), (py, py), (px, px)))
    Ho = (H + 2 * py - kh) // sy + 1
    Wo = (W + 2 * px - kw) // sx + 1
    patches = np.empty((B, T, C, kh, kw, Ho, Wo))
    for u in range(kh):
        for v in range(kw):
            patches[:, :, :, u, v] = x[:, :, :, u : u + sy * (Ho - 1) + 1 : sy, v : v + sx * (Wo - 1) + 1 : sx]
    return np.einsum("btcuvij,fcuv->btfij", patches, weight.astype(np.float64))


def ref_first_spike(pot: np.ndarray, threshold: float):
    """(tmap, spike potential) of (B, T, F, H, W) potentials: first t with pot > threshold."""
    T = pot.shape[1]
    above = pot > np.asarray(threshold, dtype=pot.dtype)
    fired = above.any(axis=1)
    tm = np.where(fired, above.argmax(axis=1), T).astype(np.int32)
    sp = np.where(fired, np.take_along_axis(pot, np.minimum(tm, T - 1)[:, None], axis=1)[:, 0], 0).astype(pot.dtype)
    return tm, sp


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-4) if np.dtype(dtype) == np.float32 else dict(rtol=1e-12, atol=1e-10)


# ----------------------------------------------------------------------------- dense conv
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, kernel, stride, padding",
    [
        ((2, 4, 3, 7, 6), (4, 3, 3, 2), (1, 1), (0, 0)),
        ((2, 3, 2, 8, 9), (3, 2, 3, 3), (2, 1), (1, 2)),
        ((1, 5, 1, 6, 6), (2, 1, 5, 5), (3, 2), (2, 2)),
        ((3, 2, 2, 5, 4), (5, 2, 1, 1), (1, 2), (0, 1)),
    ],
)
def test_conv_matches_loop_reference(rng, dtype, shape, kernel, stride, padding):
    B, T, C, H, W = shape
    wave = wave_from_tmap(random_tmap(rng, B, C, H, W, T), T)
    weight = rng.normal(0.3, 0.5, kernel).astype(dtype)  # signed weights
    out = conv(wave, weight, stride, padding)
    assert out.dtype == dtype
    assert out.shape == (B, T, kernel[0], *conv_output_shape((H, W), kernel[2:], stride, padding))
    np.testing.assert_allclose(out, ref_conv_loops(wave, weight, stride, padding), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_matches_einsum_reference_larger(rng, dtype):
    B, T, C, H, W = 4, 6, 5, 13, 11
    wave = wave_from_tmap(random_tmap(rng, B, C, H, W, T), T)
    weight = rng.normal(0.5, 0.2, (7, C, 4, 3)).astype(dtype)
    for stride, padding in [((1, 1), (2, 1)), ((2, 3), (0, 1))]:
        out = conv(wave, weight, stride, padding)
        np.testing.assert_allclose(out, ref_conv_einsum(wave, weight, stride, padding), **tol(dtype))


def test_einsum_reference_agrees_with_loop_reference(rng):
    wave = wave_from_tmap(random_tmap(rng, 1, 2, 5, 6, 3), 3)
    weight = rng.normal(size=(2, 2, 3, 2))
    np.testing.assert_allclose(
        ref_conv_einsum(wave, weight, (2, 1), (1, 1)), ref_conv_loops(wave, weight, (2, 1), (1, 1)), rtol=1e-12
    )


def test_conv_is_cross_correlation_not_convolution():
    # a single spike in the top-left corner of a 3x3 image, asymmetric kernel
    wave = np.zeros((1, 1, 1, 3, 3), np.uint8)
    wave[0, 0, 0, 0, 0] = 1
    weight = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    out = conv(wave, weight)
    assert out.shape == (1, 1, 1, 1, 1)
    assert out[0, 0, 0, 0, 0] == weight[0, 0, 0, 0] == 0.0
    out = conv(wave, weight, padding=1)
    # output (1, 1) sees the spike through weight[0, 0]; output (0, 0) through weight[1, 1]
    assert out[0, 0, 0, 1, 1] == 0.0 and out[0, 0, 0, 0, 0] == 4.0 and out[0, 0, 0, 0, 1] == 3.0


def test_conv_edge_cases(rng):
    # 1x1 image, 1x1 kernel, batch of 1, T = 1
    wave = np.ones((1, 1, 1, 1, 1), np.uint8)
    weight = np.array([[[[0.75]]], [[[-2.0]]]], np.float32)
    out = conv(wave, weight)
    assert out.shape == (1, 1, 2, 1, 1)
    np.testing.assert_array_equal(out.ravel(), [0.75, -2.0])
    # all-zero input gives exactly zero potentials
    zero = np.zeros((2, 4, 3, 6, 6), np.uint8)
    out = conv(zero, rng.normal(size=(5, 3, 3, 3)).astype(np.float32), padding=1)
    assert out.shape == (2, 4, 5, 6, 6) and not out.any()
    # T = 1 with a random wave
    wave = (rng.random((3, 1, 2, 5, 5)) < 0.5).astype(np.uint8)
    weight = rng.normal(size=(2, 2, 2, 2))
    np.testing.assert_allclose(conv(wave, weight), ref_conv_loops(wave, weight), rtol=1e-12, atol=1e-12)
    # kernel exactly the padded input size: one output
    out = conv(wave, rng.normal(size=(2, 2, 7, 7)), padding=1)
    assert out.shape == (3, 1, 2, 1, 1)


def test_conv_non_cumulative_wave_is_per_step_correlation(rng):
    # neurons switching off and values > 1 are used step by step, as multiplicities
    wave = rng.integers(0, 3, size=(2, 5, 2, 6, 5)).astype(np.uint8)
    weight = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    out = conv(wave, weight, (1, 2), (1, 1))
    np.testing.assert_allclose(out, ref_conv_einsum(wave, weight, (1, 2), (1, 1)), rtol=1e-5, atol=1e-5)
    # a neuron that turns off gives exact zeros (no rounding residue from +w then -w)
    w2 = np.zeros((1, 1, 1, 1, 1), np.uint8).repeat(3, axis=1)
    w2[0, 1] = 1
    out = conv(w2, np.array([[[[0.1]]]], np.float32))
    np.testing.assert_array_equal(out.ravel(), np.array([0, 0.1, 0], np.float32))


def test_conv_mixed_batch_cumulative_and_not(rng):
    T = 4
    wave = wave_from_tmap(random_tmap(rng, 3, 2, 5, 5, T), T)
    wave[1, 2] = 0  # sample 1 is no longer cumulative
    weight = rng.normal(size=(2, 2, 3, 3))
    np.testing.assert_allclose(conv(wave, weight), ref_conv_einsum(wave, weight), rtol=1e-12, atol=1e-12)


def test_conv_non_contiguous_inputs(rng):
    T = 3
    wave = wave_from_tmap(random_tmap(rng, 2, 3, 6, 6, T), T)
    weight = rng.normal(size=(3, 2, 3, 3)).transpose(1, 0, 2, 3)  # (2, 3, 3, 3) view
    wv = wave[:, :, :, ::-1]
    np.testing.assert_allclose(conv(wv, weight), ref_conv_einsum(wv, weight), rtol=1e-12, atol=1e-12)


def test_conv_threads_give_identical_results(rng):
    T = 5
    wave = wave_from_tmap(random_tmap(rng, 5, 2, 9, 9, T), T)
    weight = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
    tm = random_tmap(rng, 5, 2, 9, 9, T)
    with num_threads(1):
        a = conv(wave, weight, 1, 1)
        ta, pa = conv_fire_timemap(tm, weight, 0.5, T, 1, 1)
    with num_threads(3):
        b = conv(wave, weight, 1, 1)
        tb, pb = conv_fire_timemap(tm, weight, 0.5, T, 1, 1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ta, tb)
    np.testing.assert_array_equal(pa, pb)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    B=st.integers(1, 3),
    T=st.integers(1, 6),
    C=st.integers(1, 3),
    H=st.integers(1, 7),
    W=st.integers(1, 7),
    k=st.integers(1, 3),
    s=st.integers(1, 2),
    p=st.integers(0, 2),
)
def test_property_potentials_non_decreasing(seed, B, T, C, H, W, k, s, p):
    """Non-negative weights and a cumulative wave: potentials never decrease over t."""
    rng = np.random.default_rng(seed)
    if k > H + 2 * p or k > W + 2 * p:
        return
    wave = wave_from_tmap(random_tmap(rng, B, C, H, W, T), T)
    weight = rng.random((2, C, k, k)).astype(np.float32)
    out = conv(wave, weight, s, p)
    assert (np.diff(out, axis=1) >= 0).all()
    np.testing.assert_allclose(out, ref_conv_einsum(wave, weight, (s, s), (p, p)), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- time-map conv + fire
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride, padding, threshold", [(1, 0, 1.0), (1, 2, 2.5), ((2, 1), (1, 0), 0.7), (3, 1, -0.5)])
def test_conv_fire_timemap_equals_dense_first_spike(rng, dtype, stride, padding, threshold):
    T = 6
    tm = random_tmap(rng, 3, 3, 9, 8, T)
    weight = rng.normal(0.3, 0.4, (4, 3, 3, 3)).astype(dtype)
    out_t, out_p = conv_fire_timemap(tm, weight, threshold, T, stride, padding)
    pot = conv(wave_from_tmap(tm, T), weight, stride, padding)
    ref_t, ref_p = ref_first_spike(pot, threshold)
    assert out_t.dtype == np.int32 and out_p.dtype == dtype
    # the same arithmetic in the same order: bit-identical to the dense path
    np.testing.assert_array_equal(out_t, ref_t)
    np.testing.assert_array_equal(out_p, ref_p)
    # and close to the float64 reference (identical times unless a potential sits on the threshold)
    pot64 = ref_conv_einsum(wave_from_tmap(tm, T), weight, _pair(stride), _pair(padding))
    ref64_t, ref64_p = ref_first_spike(pot64, threshold)
    near = (np.abs(pot64 - threshold) < 1e-4).any(axis=1)
    assert ((out_t == ref64_t) | near).all()
    same = out_t == ref64_t
    np.testing.assert_allclose(out_p[same], ref64_p[same], **tol(dtype))
    assert (out_t < T).any()
    if threshold > 0:
        assert (out_t == T).any()  # the case exercises both outcomes


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def test_conv_fire_timemap_matches_first_spike_module(rng):
    """Integration with _fire.first_spike once another engineer provides it."""
    if not hasattr(snn, "first_spike"):
        pytest.skip("workbench.snn.first_spike not available yet")
    T = 5
    tm = random_tmap(rng, 2, 2, 7, 7, T)
    weight = rng.normal(0.4, 0.3, (3, 2, 3, 3)).astype(np.float32)
    out_t, out_p = conv_fire_timemap(tm, weight, 1.5, T, 1, 1)
    ref_t, ref_p = snn.first_spike(conv(wave_from_tmap(tm, T), weight, 1, 1), 1.5)
    np.testing.assert_array_equal(out_t, ref_t)
    np.testing.assert_array_equal(out_p, ref_p)


def test_conv_fire_timemap_threshold_is_strict_and_ties():
    # integer-valued weights make potentials exact: equal to threshold does not fire
    T = 4
    tm = np.array([[[[0, 1], [2, 4]]]], np.int32)  # (1, 1, 2, 2)
    weight = np.ones((1, 1, 2, 2), np.float32)
    out_t, out_p = conv_fire_timemap(tm, weight, 2.0, T)
    # potentials over t: 1, 2, 3, 3 -> first > 2 at t = 2
    assert out_t.ravel().tolist() == [2] and out_p.ravel().tolist() == [3.0]
    out_t, out_p = conv_fire_timemap(tm, weight, 3.0, T)
    assert out_t.ravel().tolist() == [T] and out_p.ravel().tolist() == [0.0]
    # two features tied in potential and time both fire (no competition here)
    w2 = np.ones((2, 1, 2, 2), np.float32)
    out_t, _ = conv_fire_timemap(tm, w2, 0.5, T)
    assert out_t.ravel().tolist() == [0, 0]


def test_conv_fire_timemap_edge_cases(rng):
    # all-never input: nothing fires with threshold >= 0, all fire at t=0 (potential 0) below 0
    tm = np.full((2, 2, 4, 4), 5, np.int32)
    weight = rng.random((3, 2, 3, 3)).astype(np.float32)
    t, p = conv_fire_timemap(tm, weight, 0.0, 5, 1, 1)
    assert (t == 5).all() and not p.any()
    t, p = conv_fire_timemap(tm, weight, -0.25, 5, 1, 1)
    assert (t == 0).all() and not p.any()
    # 1x1 image, 1x1 kernel, B = 1, T = 1
    t, p = conv_fire_timemap(np.zeros((1, 1, 1, 1), np.int32), np.full((1, 1, 1, 1), 0.5), 0.25, 1)
    assert t.ravel().tolist() == [0] and p.ravel().tolist() == [0.5]
    # signed weights: the potential rises above then falls below; the first crossing counts
    tm = np.array([[[[0]], [[1]]]], np.int32)  # (1, 2, 1, 1)
    weight = np.array([[[[1.0]], [[-3.0]]]])
    t, p = conv_fire_timemap(tm, weight, 0.5, 3)
    assert t.ravel().tolist() == [0] and p.ravel().tolist() == [1.0]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    B=st.integers(1, 3),
    T=st.integers(1, 7),
    C=st.integers(1, 3),
    H=st.integers(1, 8),
    W=st.integers(1, 8),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sy=st.integers(1, 3),
    sx=st.integers(1, 3),
    py=st.integers(0, 2),
    px=st.integers(0, 2),
    thr=st.floats(-1.0, 3.0),
    F=st.integers(1, 12),
)
def test_property_timemap_equals_dense(seed, B, T, C, H, W, kh, kw, sy, sx, py, px, thr, F):
    if kh > H + 2 * py or kw > W + 2 * px:
        return
    rng = np.random.default_rng(seed)
    tm = random_tmap(rng, B, C, H, W, T)
    weight = rng.normal(0.3, 0.5, (F, C, kh, kw)).astype(np.float32)
    out_t, out_p = conv_fire_timemap(tm, weight, thr, T, (sy, sx), (py, px))
    ref_t, ref_p = ref_first_spike(conv(wave_from_tmap(tm, T), weight, (sy, sx), (py, px)), thr)
    np.testing.assert_array_equal(out_t, ref_t)
    np.testing.assert_array_equal(out_p, ref_p)


@pytest.mark.parametrize("F", [8, 9, 16, 17, 33])
def test_conv_and_timemap_many_features(rng, F):
    """Feature counts around the kernels' blocks of 8 lanes."""
    T = 5
    tm = random_tmap(rng, 2, 3, 7, 6, T)
    wave = wave_from_tmap(tm, T)
    for dtype in (np.float32, np.float64):
        weight = rng.normal(0.3, 0.4, (F, 3, 3, 3)).astype(dtype)
        pot = conv(wave, weight, 1, 1)
        np.testing.assert_allclose(pot, ref_conv_einsum(wave, weight, (1, 1), (1, 1)), **tol(dtype))
        out_t, out_p = conv_fire_timemap(tm, weight, 1.0, T, 1, 1)
        ref_t, ref_p = ref_first_spike(pot, 1.0)
        np.testing.assert_array_equal(out_t, ref_t)
        np.testing.assert_array_equal(out_p, ref_p)
        assert (out_t[:, -1] < T).any()  # the last feature (a partly filled block) fires too


def test_conv_fire_timemap_non_contiguous_tmap(rng):
    T = 4
    tm = random_tmap(rng, 2, 3, 8, 8, T)[:, :, ::2, ::-1]
    weight = rng.normal(0.5, 0.2, (3, 3, 2, 2)).astype(np.float32)
    out_t, out_p = conv_fire_timemap(tm, weight, 0.8, T)
    ref_t, ref_p = ref_first_spike(conv(wave_from_tmap(tm, T), weight), 0.8)
    np.testing.assert_array_equal(out_t, ref_t)
    np.testing.assert_array_equal(out_p, ref_p)


def test_threshold_compared_in_weight_precision():
    # 0.1 is not a float32: the float32 path compares against float32(0.1), like NumPy does
    tm = np.zeros((1, 1, 1, 1), np.int32)
    w32 = np.full((1, 1, 1, 1), np.float32(0.1), np.float32)
    t, _ = conv_fire_timemap(tm, w32, 0.1, 2)
    assert t.ravel().tolist() == [2]  # float32(0.1) > float32(0.1) is false
    assert not (conv(np.ones((1, 1, 1, 1, 1), np.uint8), w32) > 0.1).any()


# ----------------------------------------------------------------------------- Conv layer
def test_conv_layer_init_and_call(rng):
    layer = Conv(3, 8, 5, padding=2, seed=7)
    assert layer.weight.shape == (8, 3, 5, 5) and layer.weight.dtype == np.float32
    assert layer.stride == (1, 1) and layer.padding == (2, 2) and layer.kernel_size == (5, 5)
    assert abs(layer.weight.mean() - 0.5) < 0.01 and 0.01 < layer.weight.std() < 0.03
    np.testing.assert_array_equal(layer.weight, Conv(3, 8, 5, padding=2, seed=7).weight)
    assert not np.array_equal(layer.weight, Conv(3, 8, 5, padding=2, seed=8).weight)
    wave = wave_from_tmap(random_tmap(rng, 2, 3, 6, 6, 4), 4)
    np.testing.assert_array_equal(layer(wave), conv(wave, layer.weight, 1, 2))
    t, p = layer.fire_timemap(random_tmap(rng, 2, 3, 6, 6, 4), 3.0, 4)
    assert t.shape == p.shape == (2, 8, 6, 6)
    assert layer.output_shape((6, 6)) == (6, 6)
    layer64 = Conv(2, 3, (3, 2), stride=(2, 1), mean=0.0, std=1.0, seed=1, dtype=np.float64)
    assert layer64.weight.dtype == np.float64 and layer64.weight.shape == (3, 2, 3, 2)
    assert layer64.stride == (2, 1) and (layer64.weight < 0).any()
    assert "Conv(2, 3" in repr(layer64)


def test_conv_layer_weight_assignment_validated(rng):
    layer = Conv(2, 3, 3)
    new = rng.random((3, 2, 3, 3)).astype(np.float32)
    layer.weight = new
    assert layer.weight is new
    layer.weight[0, 0, 0, 0] = 5.0  # in-place updates (STDP) are seen by the layer
    assert layer(np.ones((1, 1, 2, 3, 3), np.uint8))[0, 0, 0, 0, 0] > 5.0
    with pytest.raises(ValueError, match="weight"):
        layer.weight = np.zeros((3, 2, 2, 2), np.float32)
    with pytest.raises(TypeError, match="weight"):
        layer.weight = np.zeros((3, 2, 3, 3), np.float64)
    with pytest.raises(ValueError, match="weight"):
        layer.weight = np.full((3, 2, 3, 3), np.nan, np.float32)
    with pytest.raises(TypeError, match="weight"):
        layer.weight = [[0.0]]


def test_conv_layer_bad_arguments():
    with pytest.raises(ValueError, match="in_channels"):
        Conv(0, 3, 3)
    with pytest.raises(TypeError, match="out_channels"):
        Conv(2, 3.0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        Conv(2, 3, 0)
    with pytest.raises(ValueError, match="stride"):
        Conv(2, 3, 3, stride=0)
    with pytest.raises(ValueError, match="padding"):
        Conv(2, 3, 3, padding=-1)
    with pytest.raises(ValueError, match="std"):
        Conv(2, 3, 3, std=-0.1)
    with pytest.raises(TypeError, match="dtype"):
        Conv(2, 3, 3, dtype=np.float16)
    with pytest.raises(TypeError, match="seed"):
        Conv(2, 3, 3, seed=1.5)


# ----------------------------------------------------------------------------- bad inputs
def test_conv_bad_inputs(rng):
    wave = np.zeros((1, 2, 3, 5, 5), np.uint8)
    weight = np.zeros((2, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="wave"):
        conv(wave[0], weight)
    with pytest.raises(TypeError, match="wave"):
        conv(wave.astype(np.int32), weight)
    with pytest.raises(TypeError, match="wave"):
        conv(wave.tolist(), weight)
    with pytest.raises(ValueError, match="weight"):
        conv(wave, weight[0])
    with pytest.raises(TypeError, match="weight"):
        conv(wave, weight.astype(np.float16))
    with pytest.raises(ValueError, match="weight"):
        conv(wave, np.full((2, 3, 3, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match="weight"):
        conv(wave, np.full((2, 3, 3, 3), np.inf))
    with pytest.raises(ValueError, match="channel"):
        conv(wave, np.zeros((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="kernel_size"):
        conv(wave, np.zeros((2, 3, 6, 3), np.float32))
    with pytest.raises(ValueError, match="kernel_size"):
        conv(wave, np.zeros((2, 3, 8, 3), np.float32), padding=1)
    with pytest.raises(ValueError, match="stride"):
        conv(wave, weight, stride=0)
    with pytest.raises(ValueError, match="padding"):
        conv(wave, weight, padding=(1, -1))
    with pytest.raises(TypeError, match="stride"):
        conv(wave, weight, stride=(1, 1, 1))
    with pytest.raises(ValueError, match="wave"):
        conv(np.zeros((0, 2, 3, 5, 5), np.uint8), weight)


def test_conv_fire_timemap_bad_inputs():
    tm = np.zeros((1, 3, 5, 5), np.int32)
    weight = np.zeros((2, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match="tmap"):
        conv_fire_timemap(tm[0], weight, 1.0, 4)
    with pytest.raises(TypeError, match="tmap"):
        conv_fire_timemap(tm.astype(np.int64), weight, 1.0, 4)
    with pytest.raises(ValueError, match="tmap"):
        conv_fire_timemap(tm + 5, weight, 1.0, 4)
    with pytest.raises(ValueError, match="tmap"):
        conv_fire_timemap(tm - 1, weight, 1.0, 4)
    with pytest.raises(ValueError, match="T"):
        conv_fire_timemap(tm, weight, 1.0, 0)
    with pytest.raises(TypeError, match="T"):
        conv_fire_timemap(tm, weight, 1.0, 4.0)
    with pytest.raises(ValueError, match="threshold"):
        conv_fire_timemap(tm, weight, float("nan"), 4)
    with pytest.raises(TypeError, match="threshold"):
        conv_fire_timemap(tm, weight, "1", 4)
    with pytest.raises(ValueError, match="channel"):
        conv_fire_timemap(tm, np.zeros((2, 2, 3, 3), np.float32), 1.0, 4)
    with pytest.raises(ValueError, match="kernel_size"):
        conv_fire_timemap(tm, np.zeros((2, 3, 6, 6), np.float32), 1.0, 4)
    with pytest.raises(TypeError, match="weight"):
        conv_fire_timemap(tm, weight.astype(np.float16), 1.0, 4)
    with pytest.raises(ValueError, match="weight"):
        conv_fire_timemap(tm, np.full((2, 3, 3, 3), np.nan), 1.0, 4)


# ----------------------------------------------------------------------------- Spyker parity
@needs_spyker
@pytest.mark.parametrize("stride, padding", [(1, 0), ((2, 1), (1, 2)), (2, 2)])
def test_conv_matches_spyker(rng, stride, padding):
    T = 5
    wave = wave_from_tmap(random_tmap(rng, 3, 4, 11, 10, T), T)
    weight = rng.normal(0.5, 0.3, (6, 4, 3, 4)).astype(np.float32)
    ours = conv(wave, weight, stride, padding)
    theirs = np.asarray(spyker.conv(wave, weight, stride=stride, pad=padding))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)
    # non-cumulative uint8 input: Spyker correlates each step with values as weights
    noisy = rng.integers(0, 3, size=wave.shape).astype(np.uint8)
    np.testing.assert_allclose(
        conv(noisy, weight, stride, padding), np.asarray(spyker.conv(noisy, weight, stride=stride, pad=padding)),
        rtol=1e-5, atol=1e-4,
    )


@needs_spyker
def test_conv_layer_with_spyker_weights(rng):
    theirs = spyker.Conv(3, 5, 5, pad=2)
    kernel = spyker.to_numpy(theirs.kernel)
    layer = Conv(3, 5, 5, padding=2)
    layer.weight = np.ascontiguousarray(kernel)
    wave = wave_from_tmap(random_tmap(rng, 2, 3, 9, 9, 4), 4)
    np.testing.assert_allclose(layer(wave), np.asarray(theirs(wave)), rtol=1e-5, atol=1e-4)
    # Spyker's default initialisation: N(0.5, 0.02), like ours
    assert abs(kernel.mean() - 0.5) < 0.02 and 0.01 < kernel.std() < 0.03


@needs_spyker
@pytest.mark.parametrize("padding, threshold", [(0, 3.0), (2, 6.0), ((1, 2), 2.0)])
def test_conv_fire_timemap_matches_spyker_sparse(rng, padding, threshold):
    T = 8
    images = rng.random((4, 3, 10, 9)).astype(np.float32)
    images[images < 0.3] = 0  # values at the minimum never spike
    weight = rng.normal(0.5, 0.3, (5, 3, 3, 3)).astype(np.float32)
    sparse_in = spyker.sparse.code(images, T)
    wave = spyker.to_numpy(sparse_in.dense())
    tm = (T - wave.sum(axis=1)).astype(np.int32)
    np.testing.assert_array_equal(wave_from_tmap(tm, T), wave)  # the coded wave is cumulative
    out_t, out_p = conv_fire_timemap(tm, weight, threshold, T, 1, padding)
    sp = spyker.sparse.conv(sparse_in, spyker.wrap_array(weight), threshold, 1, padding)
    their_t = T - spyker.to_numpy(sp.dense()).sum(axis=1)
    assert their_t.shape == out_t.shape
    # summation order differs from Spyker's, so only a potential within rounding of the
    # threshold may flip
    pot = ref_conv_einsum(wave, weight, (1, 1), _pair(padding))
    near = (np.abs(pot - threshold) < 1e-4).any(axis=1)
    assert ((out_t == their_t) | near).all()
    assert (out_t == their_t).mean() > 0.99 and (out_t < T).any()
