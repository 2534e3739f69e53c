"""Max-potential decisions and their online R-STDP (workbench.snn._decision) against NumPy loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import STDPConfig, max_potential_decide, max_potential_rstdp


# ---------------------------------------------------------------- reference
def online_ref(tmap, weight, T, padding, active=None, labels=None, feature_class=None, reward=None, punish=None):
    """Sample by sample: the largest final potential of an active feature (first maximum in
    (feature, y, x) order, positive only) wins; with labels, R-STDP on its kernel at its
    position (fired inputs -> a_plus, silent and padded -> a_minus), then the next sample."""
    w = weight.copy()
    B, C, H, W = tmap.shape
    F, _, kh, kw = w.shape
    py, px = padding
    fired = np.pad(tmap < T, ((0, 0), (0, 0), (py, py), (px, px)))
    OH, OW = H + 2 * py - kh + 1, W + 2 * px - kw + 1
    active = np.ones(F, bool) if active is None else active
    out = np.zeros((B, 3), np.int64)
    for b in range(B):
        best, top = None, 0.0
        for f in range(F):
            for y in range(OH):
                for x in range(OW):
                    v = float((w[f].astype(np.float64) * fired[b, :, y : y + kh, x : x + kw]).sum())
                    if active[f] and v > top:
                        best, top = (f, y, x), v
        if best is None:
            out[b] = (-1, 0, 0)
            continue
        out[b] = best
        if labels is None:
            continue
        f, y, x = best
        cfg = reward if feature_class[f] == labels[b] else punish
        a = np.where(fired[b, :, y : y + kh, x : x + kw], cfg.a_plus, cfg.a_minus)
        dw = a * (w[f] - cfg.lower) * (cfg.upper - w[f]) if cfg.stabilize else a
        w[f] = np.clip(w[f] + dw, cfg.lower, cfg.upper)
    return out, w


def dyadic_weights(rng, shape, dtype):
    # Multiples of 1/8 in [1/8, 7/8] and dyadic rates keep every sum exact in float32, so
    # ties are real ties in both implementations and the comparison can be exact.
    return (rng.integers(1, 8, shape) / 8).astype(dtype)


REWARD = STDPConfig(0.125, -0.0625, stabilize=False, lower=0.125, upper=0.875)
PUNISH = STDPConfig(-0.125, 0.03125, stabilize=False, lower=0.125, upper=0.875)

CASES = [  # B, C, H, W, F, k, padding, T
    (5, 3, 5, 5, 6, 3, (0, 0), 5),
    (4, 2, 4, 6, 4, 3, (1, 2), 4),
    (1, 1, 1, 1, 2, 1, (0, 0), 1),  # batch of 1, 1x1 map, T=1
    (6, 4, 4, 4, 8, 5, (2, 2), 15),  # Mozafari 2019's geometry, scaled down
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,C,H,W,F,k,padding,T", CASES)
def test_decide_matches_reference(rng, dtype, B, C, H, W, F, k, padding, T):
    weight = dyadic_weights(rng, (F, C, k, k), dtype)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    tmap[0] = T  # a silent sample is undecided
    out = max_potential_decide(tmap, weight, T, padding)
    ref, _ = online_ref(tmap, weight, T, padding)
    np.testing.assert_array_equal(out, ref)
    assert out[0, 0] == -1 and out.dtype == np.int32


def test_decide_ties_go_to_the_first_feature_then_position(rng):
    tmap = np.zeros((1, 1, 3, 3), np.int32)  # every input fired
    weight = np.full((3, 1, 2, 2), 0.5, np.float32)  # every neuron has the same potential
    np.testing.assert_array_equal(max_potential_decide(tmap, weight, 4), [[0, 0, 0]])
    weight[2, 0, 1, 1] = 0.75  # feature 2 wins everywhere; its first position
    np.testing.assert_array_equal(max_potential_decide(tmap, weight, 4), [[2, 0, 0]])


def test_decide_respects_active_features_and_many_samples(rng):
    weight = dyadic_weights(rng, (6, 2, 3, 3), np.float32)
    tmap = rng.integers(0, 5, (200, 2, 4, 4)).astype(np.int32)  # parallel over samples
    active = np.array([True, False, True, False, False, True])
    out = max_potential_decide(tmap, weight, 4, 1, active=active)
    ref, _ = online_ref(tmap, weight, 4, (1, 1), active=active)
    np.testing.assert_array_equal(out, ref)
    assert set(out[:, 0].tolist()) <= {0, 2, 5}
    assert (max_potential_decide(tmap, weight, 4, 1, active=np.zeros(6, bool))[:, 0] == -1).all()


@pytest.mark.parametrize("stabilize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,C,H,W,F,k,padding,T", CASES)
def test_rstdp_matches_online_reference(rng, stabilize, dtype, B, C, H, W, F, k, padding, T):
    weight = dyadic_weights(rng, (F, C, k, k), dtype)
    lower, upper = (0.0, 1.0) if stabilize else (0.125, 0.875)  # soft bounds: (w - 0)(1 - w), exact
    reward = STDPConfig(0.125, -0.0625, stabilize=stabilize, lower=lower, upper=upper)
    punish = STDPConfig(-0.125, 0.03125, stabilize=stabilize, lower=lower, upper=upper)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    labels = rng.integers(0, 2, B)
    feature_class = np.arange(F) % 2
    active = np.ones(F, bool)
    active[-1] = F == 2  # a dropped-out feature never wins nor learns (unless only 2 features)
    ref_out, ref_w = online_ref(tmap, weight, T, padding, active, labels, feature_class, reward, punish)
    w = weight.copy()
    out = max_potential_rstdp(tmap, w, T, labels, feature_class, reward, punish, padding=padding, active=active)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(w, ref_w)
    assert w.dtype == dtype
    if (ref_out[:, 0] >= 0).any():
        assert not np.array_equal(w, weight)  # it did learn
    if not active[-1]:
        np.testing.assert_array_equal(w[-1], weight[-1])


def test_rstdp_all_silent_input_changes_nothing(rng):
    weight = dyadic_weights(rng, (4, 2, 3, 3), np.float32)
    w = weight.copy()
    tmap = np.full((3, 2, 5, 5), 7, np.int32)
    out = max_potential_rstdp(tmap, w, 7, np.zeros(3, np.int64), np.arange(4) % 2, REWARD, PUNISH, padding=1)
    assert (out[:, 0] == -1).all()
    np.testing.assert_array_equal(w, weight)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 3), st.integers(0, 2), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_rstdp_without_rates_is_decide(B, C, H, W, F, k, pad, T, seed):
    # Invariant: with zero rates nothing changes, so every sample is decided as by decide().
    k = min(k, H + 2 * pad, W + 2 * pad)
    rng = np.random.default_rng(seed)
    weight = rng.random((F, C, k, k)).astype(np.float32)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    still = STDPConfig(0.0, 0.0, stabilize=False)
    w = weight.copy()
    out = max_potential_rstdp(tmap, w, T, np.zeros(B, np.int64), np.zeros(F, np.int64), still, still, padding=pad)
    np.testing.assert_array_equal(out, max_potential_decide(tmap, weight, T, pad))
    np.testing.assert_array_equal(w, weight)


def test_bad_input_raises(rng):
    weight = dyadic_weights(rng, (4, 2, 3, 3), np.float32)
    tmap = np.zeros((2, 2, 4, 4), np.int32)
    labels, classes = np.zeros(2, np.int64), np.arange(4) % 2
    with pytest.raises(TypeError, match="tmap"):
        max_potential_decide(tmap.astype(np.int64), weight, 4)
    with pytest.raises(ValueError, match="channel"):
        max_potential_decide(np.zeros((2, 3, 4, 4), np.int32), weight, 4)
    with pytest.raises(ValueError, match="tmap"):
        max_potential_decide(tmap + 5, weight, 4)  # times beyond T
    with pytest.raises(ValueError, match="weight"):
        max_potential_decide(tmap, np.full_like(weight, np.nan), 4)
    with pytest.raises(ValueError, match="active"):
        max_potential_decide(tmap, weight, 4, active=np.ones(3, bool))
    with pytest.raises(ValueError, match="labels"):
        max_potential_rstdp(tmap, weight, 4, np.zeros(3, np.int64), classes, REWARD, PUNISH)
    with pytest.raises(TypeError, match="labels"):
        max_potential_rstdp(tmap, weight, 4, labels.astype(float), classes, REWARD, PUNISH)
    with pytest.raises(ValueError, match="feature_class"):
        max_potential_rstdp(tmap, weight, 4, labels, np.zeros(5, np.int64), REWARD, PUNISH)
    with pytest.raises(ValueError, match="share upper"):
        max_potential_rstdp(tmap, weight, 4, labels, classes, REWARD, STDPConfig(0.1, -0.1, False, 0.125, 1.0))
    with pytest.raises(TypeError, match="reward_config"):
        max_potential_rstdp(tmap, weight, 4, labels, classes, (0.1, -0.1), PUNISH)
    frozen = weight.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        max_potential_rstdp(tmap, frozen, 4, labels, classes, REWARD, PUNISH)


# ---------------------------------------------------------------- Spyker
def test_rstdp_matches_the_step_composed_from_spyker(rng):
    # Spyker 0.1.0 has no decision op; the same online step is its Conv forward, the argmax
    # of the last step's potentials and Conv.stdp for that winner, one sample at a time.
    spyker = pytest.importorskip("spyker")
    B, C, H, W, F, k, pad, T = 12, 6, 4, 4, 10, 3, 1, 6
    tmap = np.where(rng.random((B, C, H, W)) < 0.3, rng.integers(0, T, (B, C, H, W)), T).astype(np.int32)
    labels = rng.integers(0, 2, B)
    classes = np.arange(F) % 2
    weight = np.clip(rng.normal(0.8, 0.05, (F, C, k, k)), 0.2, 0.8).astype(np.float32)
    reward = STDPConfig(0.004, -0.003, stabilize=False, lower=0.2, upper=0.8)
    punish = STDPConfig(-0.004, 0.0005, stabilize=False, lower=0.2, upper=0.8)
    conv = spyker.Conv(C, F, k, pad=pad)
    conv.stdpconfig = [spyker.STDPConfig(0.004, -0.003, False, 0.2, 0.8), spyker.STDPConfig(-0.004, 0.0005, False, 0.2, 0.8)]
    np.asarray(conv.kernel)[...] = weight
    waves = (np.arange(T).reshape(1, T, 1, 1, 1) >= tmap[:, None]).astype(np.uint8)
    expected = []
    for b in range(B):
        final = np.asarray(conv(waves[b : b + 1]))[0, -1]
        f, y, x = np.unravel_index(int(np.argmax(final)), final.shape)
        expected.append((f, y, x))
        winner = spyker.Winner(0 if classes[f] == labels[b] else 1, T - 1, int(f))
        winner.y, winner.x = int(y), int(x)
        out = np.zeros((1, T, F, H + 2 * pad - k + 1, W + 2 * pad - k + 1), np.uint8)
        out[0, T - 1, f, y, x] = 1
        conv.stdp(waves[b : b + 1], [[winner]], out)
    w = weight.copy()
    won = max_potential_rstdp(tmap, w, T, labels, classes, reward, punish, padding=pad)
    np.testing.assert_array_equal(won, expected)
    np.testing.assert_allclose(w, np.asarray(conv.kernel), rtol=0, atol=1e-6)
    assert not np.array_equal(w, weight)
