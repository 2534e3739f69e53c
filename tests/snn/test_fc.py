"""Tests of workbench.snn._conv: fc and FC (fully-connected layers on spike-waves)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn._conv import FC, fc

try:
    import spyker
except ImportError:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")


def cumulative_wave(rng, B, T, N, p_never=0.3) -> np.ndarray:
    """Cumulative (B, T, N) wave from random first-spike steps."""
    tm = rng.integers(0, T, size=(B, N))
    tm[rng.random(tm.shape) < p_never] = T
    return (np.arange(T)[None, :, None] >= tm[:, None, :]).astype(np.uint8)


def ref_fc_loops(wave, weight) -> np.ndarray:
    """potentials[b, t, m] = sum_n wave[b, t, n] * weight[m, n], plain loops in float64."""
    B, T, N = wave.shape
    M = weight.shape[0]
    out = np.zeros((B, T, M))
    for b in range(B):
        for t in range(T):
            for m in range(M):
                s = 0.0
                for n in range(N):
                    s += float(wave[b, t, n]) * float(weight[m, n])
                out[b, t, m] = s
    return out


def ref_fc_einsum(wave, weight) -> np.ndarray:
    B, T = wave.shape[:2]
    return np.einsum("btn,mn->btm", wave.reshape(B, T, -1).astype(np.float64), weight.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B, T, N, M", [(2, 4, 9, 3), (1, 1, 1, 1), (3, 6, 20, 10)])
def test_fc_matches_loop_reference(rng, dtype, B, T, N, M):
    wave = cumulative_wave(rng, B, T, N)
    weight = rng.normal(0.2, 0.5, (M, N)).astype(dtype)  # signed weights
    out = fc(wave, weight)
    assert out.shape == (B, T, M) and out.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, ref_fc_loops(wave, weight), **tol)
    np.testing.assert_allclose(out, ref_fc_einsum(wave, weight), **tol)


def test_fc_flattens_5d_waves_in_c_order(rng):
    B, T, C, H, W = 2, 3, 2, 3, 4
    wave5 = (np.arange(T)[None, :, None, None, None] >= rng.integers(0, T + 1, (B, 1, C, H, W))).astype(np.uint8)
    weight = rng.normal(size=(5, C * H * W))
    out = fc(wave5, weight)
    np.testing.assert_allclose(out, ref_fc_einsum(wave5.reshape(B, T, -1), weight), rtol=1e-12, atol=1e-12)
    # the first feature's weight for input (c=1, y=2, x=3) is reached through its C-order index
    single = np.zeros((1, 1, C, H, W), np.uint8)
    single[0, 0, 1, 2, 3] = 1
    assert fc(single, weight)[0, 0, 0] == weight[0, np.ravel_multi_index((1, 2, 3), (C, H, W))]


def test_fc_edge_cases(rng):
    weight = rng.normal(size=(4, 6)).astype(np.float32)
    assert not fc(np.zeros((2, 5, 6), np.uint8), weight).any()  # all-zero input
    # non-cumulative waves and values > 1 are per-step products with multiplicities
    wave = rng.integers(0, 3, size=(3, 4, 6)).astype(np.uint8)
    np.testing.assert_allclose(fc(wave, weight), ref_fc_einsum(wave, weight), rtol=1e-5, atol=1e-5)
    # a neuron that fires and then stops leaves exactly zero behind
    off = np.array([[[1], [0]]], np.uint8)
    np.testing.assert_array_equal(fc(off, np.array([[0.1]], np.float32)).ravel(), np.array([0.1, 0.0], np.float32))


def test_fc_sign(rng):
    wave = cumulative_wave(rng, 2, 3, 8)
    weight = rng.normal(size=(3, 8))
    weight[0, :3] = 0.0
    np.testing.assert_array_equal(fc(wave, weight, sign=True), ref_fc_einsum(wave, np.sign(weight)))
    with pytest.raises(TypeError, match="sign"):
        fc(wave, weight, sign=1)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), B=st.integers(1, 3), T=st.integers(1, 6), N=st.integers(1, 30), M=st.integers(1, 6)
)
def test_property_fc_non_decreasing_and_linear(seed, B, T, N, M):
    rng = np.random.default_rng(seed)
    wave = cumulative_wave(rng, B, T, N)
    weight = rng.random((M, N))
    out = fc(wave, weight)
    assert (np.diff(out, axis=1) >= 0).all()
    # the last step of a cumulative wave sees every neuron that fired
    np.testing.assert_allclose(out[:, -1], wave[:, -1].astype(np.float64) @ weight.T, rtol=1e-12, atol=1e-12)


def test_fc_layer(rng):
    layer = FC(12, 4, seed=3)
    assert layer.weight.shape == (4, 12) and layer.weight.dtype == np.float32
    assert abs(layer.weight.mean() - 0.5) < 0.02
    np.testing.assert_array_equal(layer.weight, FC(12, 4, seed=3).weight)
    wave = cumulative_wave(rng, 2, 3, 12)
    np.testing.assert_array_equal(layer(wave), fc(wave, layer.weight))
    np.testing.assert_array_equal(layer(wave, sign=True), fc(wave, layer.weight, sign=True))
    layer64 = FC(3, 2, mean=-1.0, std=0.0, dtype=np.float64)
    assert layer64.weight.dtype == np.float64 and (layer64.weight == -1.0).all()
    assert "FC(3, 2" in repr(layer64)
    with pytest.raises(ValueError, match="weight"):
        layer.weight = np.zeros((12, 4), np.float32)
    with pytest.raises(TypeError, match="weight"):
        layer.weight = np.zeros((4, 12), np.float64)
    with pytest.raises(ValueError, match="in_features"):
        FC(0, 3)
    with pytest.raises(TypeError, match="dtype"):
        FC(3, 3, dtype=np.int32)


def test_fc_bad_inputs():
    wave = np.zeros((2, 3, 5), np.uint8)
    weight = np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match="wave"):
        fc(wave[0], weight)
    with pytest.raises(ValueError, match="wave"):
        fc(np.zeros((2, 3, 5, 1), np.uint8), weight)
    with pytest.raises(TypeError, match="wave"):
        fc(wave.astype(bool), weight)
    with pytest.raises(ValueError, match="weight"):
        fc(wave, weight[None])
    with pytest.raises(TypeError, match="weight"):
        fc(wave, weight.astype(np.float16))
    with pytest.raises(ValueError, match="weight"):
        fc(wave, np.full((4, 5), np.nan, np.float32))
    with pytest.raises(ValueError, match="input feature"):
        fc(wave, np.zeros((4, 6), np.float32))
    with pytest.raises(ValueError, match="wave"):
        fc(np.zeros((2, 0, 5), np.uint8), weight)


@needs_spyker
@pytest.mark.parametrize("sign", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fc_matches_spyker(rng, sign, dtype):
    wave = cumulative_wave(rng, 3, 5, 40)
    weight = rng.normal(0.1, 0.5, (7, 40)).astype(dtype)
    theirs = np.asarray(spyker.fc(wave, weight, sign=sign))
    np.testing.assert_allclose(fc(wave, weight, sign=sign), theirs, rtol=1e-5, atol=1e-5)


@needs_spyker
def test_fc_layer_with_spyker_weights(rng):
    theirs = spyker.FC(30, 6)
    kernel = spyker.to_numpy(theirs.kernel)
    layer = FC(30, 6)
    layer.weight = np.ascontiguousarray(kernel)
    wave = cumulative_wave(rng, 2, 4, 30)
    np.testing.assert_allclose(layer(wave), np.asarray(theirs(wave)), rtol=1e-5, atol=1e-5)
