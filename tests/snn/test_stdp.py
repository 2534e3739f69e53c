"""STDP / R-STDP (workbench.snn._stdp) against plain NumPy loops and Spyker."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.snn import LearningRateSchedule, STDPConfig, rstdp, stdp

try:
    import spyker
except Exception:  # pragma: no cover - depends on the environment
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")


# ---------------------------------------------------------------- references
def scatter_ref(tmap: np.ndarray, T: int) -> np.ndarray:
    """Cumulative wave, time axis inserted at 1: (B, ...) -> (B, T, ...)."""
    t = np.arange(T).reshape((1, T) + (1,) * (tmap.ndim - 1))
    return (t >= tmap[:, None]).astype(np.uint8)


def stdp_ref(weight, tmap, winners, configs, which=None, stride=(1, 1), padding=(0, 0)):
    """Sequential loop over winners; weight (F, C, kh, kw), tmap (B, C, H, W) (T = never)."""
    w = weight.copy()
    dt = w.dtype.type
    F, C, kh, kw = w.shape
    big = np.iinfo(np.int32).max
    for n, (b, f, t, y, x) in enumerate(winners):
        cfg = configs[0 if which is None else which[n]]
        for c in range(C):
            for u in range(kh):
                for v in range(kw):
                    yy, xx = y * stride[0] + u - padding[0], x * stride[1] + v - padding[1]
                    inside = 0 <= yy < tmap.shape[2] and 0 <= xx < tmap.shape[3]
                    pre_t = tmap[b, c, yy, xx] if inside else big
                    a = dt(cfg.a_plus) if pre_t <= t else dt(cfg.a_minus)
                    old = w[f, c, u, v]
                    if cfg.stabilize:
                        new = old + a * (old - dt(cfg.lower)) * (dt(cfg.upper) - old)
                    else:
                        new = old + a
                    w[f, c, u, v] = min(max(new, dt(cfg.lower)), dt(cfg.upper))
    return w


def conv_layer(weight, stride=1, padding=0):
    return SimpleNamespace(weight=weight, stride=(stride, stride), padding=(padding, padding))


def random_winners(rng, n, B, F, T, OH, OW, sort=True):
    w = np.stack(
        [rng.integers(0, B, n), rng.integers(0, F, n), rng.integers(0, T, n), rng.integers(0, OH, n), rng.integers(0, OW, n)],
        axis=1,
    ).astype(np.int32)
    return w[np.argsort(w[:, 0], kind="stable")] if sort else w


# ---------------------------------------------------------------- conv STDP
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2)])
@pytest.mark.parametrize("stabilize", [True, False])
def test_conv_stdp_matches_reference(rng, dtype, stride, padding, stabilize):
    B, C, H, W, F, k, T = 3, 2, 7, 6, 4, 3, 5
    tm = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    weight = rng.uniform(0.2, 0.8, (F, C, k, k)).astype(dtype)
    OH, OW = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    winners = random_winners(rng, 12, B, F, T, OH, OW)  # several per feature: they compound
    cfg = STDPConfig(0.05, -0.03, stabilize=stabilize)
    expect = stdp_ref(weight, tm, winners, [cfg], stride=(stride, stride), padding=(padding, padding))
    for pre in (scatter_ref(tm, T), tm):  # wave and time map inputs give the same update
        layer = conv_layer(weight.copy(), stride, padding)
        stdp(layer, pre, winners, cfg)
        np.testing.assert_array_equal(layer.weight, expect)
    assert not np.array_equal(expect, weight)


def test_conv_stdp_signed_bounds(rng):
    tm = rng.integers(0, 4, (2, 3, 5, 5)).astype(np.int32)
    weight = rng.uniform(-1, 1, (2, 3, 3, 3))
    winners = random_winners(rng, 6, 2, 2, 3, 3, 3)
    cfg = STDPConfig(0.3, -0.2, True, lower=-1.0, upper=1.0)
    layer = conv_layer(weight.copy())
    stdp(layer, tm, winners, cfg)
    np.testing.assert_array_equal(layer.weight, stdp_ref(weight, tm, winners, [cfg]))


def test_batch_equals_sequential_per_sample(rng):
    B, C, H, W, F, k, T = 4, 2, 6, 6, 3, 3, 4
    tm = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    weight = rng.uniform(0.1, 0.9, (F, C, k, k)).astype(np.float32)
    winners = random_winners(rng, 10, B, F, T, 4, 4)
    cfg = STDPConfig(0.1, -0.07)
    batch = conv_layer(weight.copy())
    stdp(batch, scatter_ref(tm, T), winners, cfg)
    seq = conv_layer(weight.copy())
    for b in range(B):
        mine = winners[winners[:, 0] == b].copy()
        mine[:, 0] = 0
        stdp(seq, scatter_ref(tm[b : b + 1], T), mine, cfg)
    np.testing.assert_array_equal(batch.weight, seq.weight)


def test_threads_do_not_change_result(rng):
    from workbench import snn

    tm = rng.integers(0, 5, (3, 2, 6, 6)).astype(np.int32)
    weight = rng.uniform(0.1, 0.9, (8, 2, 3, 3))
    winners = random_winners(rng, 30, 3, 8, 4, 4, 4)
    cfg = STDPConfig(0.1, -0.07)
    results = []
    for n in (1, 3):
        layer = conv_layer(weight.copy())
        with snn.num_threads(n):
            stdp(layer, tm, winners, cfg)
        results.append(layer.weight)
    np.testing.assert_array_equal(results[0], results[1])


def test_stdp_edge_cases():
    cfg = STDPConfig(0.1, -0.1, stabilize=False)
    # empty winners: no-op
    layer = conv_layer(np.full((1, 1, 1, 1), 0.5))
    stdp(layer, np.zeros((1, 1, 1, 1), np.int32), np.zeros((0, 5), np.int32), cfg)
    assert layer.weight[0, 0, 0, 0] == 0.5
    # B=1, 1x1 image, 1x1 kernel, T=1: the input fired at step 0 -> potentiation
    stdp(layer, np.ones((1, 1, 1, 1, 1), np.uint8), np.zeros((1, 5), np.int32), cfg)
    assert layer.weight[0, 0, 0, 0] == 0.6
    # all-zero wave (nothing fired): depression everywhere the winner looks
    layer = conv_layer(np.full((2, 1, 2, 2), 0.5))
    stdp(layer, np.zeros((1, 3, 1, 3, 3), np.uint8), np.array([[0, 1, 2, 1, 1]], np.int32), cfg)
    np.testing.assert_array_equal(layer.weight[1], np.full((1, 2, 2), 0.4))
    np.testing.assert_array_equal(layer.weight[0], np.full((1, 2, 2), 0.5))
    # tie: pre time == winner time counts as pre-before-post
    layer = conv_layer(np.full((1, 1, 1, 1), 0.5))
    stdp(layer, np.full((1, 1, 1, 1), 2, np.int32), np.array([[0, 0, 2, 0, 0]], np.int32), cfg)
    assert layer.weight[0, 0, 0, 0] == 0.6
    # padded inputs never fired: a winner on the border gets depression there
    layer = conv_layer(np.full((1, 1, 3, 3), 0.5), padding=1)
    stdp(layer, np.zeros((1, 1, 1, 1), np.int32), np.array([[0, 0, 0, 0, 0]], np.int32), cfg)
    expect = np.full((3, 3), 0.4)
    expect[1, 1] = 0.6
    np.testing.assert_allclose(layer.weight[0, 0], expect)


def test_noncontiguous_weight_updated_in_place(rng):
    tm = rng.integers(0, 4, (1, 2, 4, 4)).astype(np.int32)
    base = rng.uniform(0.2, 0.8, (2, 2, 3, 3))
    weight = np.asfortranarray(base)
    winners = np.array([[0, 1, 2, 0, 1], [0, 0, 1, 1, 0]], np.int32)
    cfg = STDPConfig(0.1, -0.05)
    layer = conv_layer(weight)
    stdp(layer, tm, winners, cfg)
    assert layer.weight is weight
    np.testing.assert_array_equal(weight, stdp_ref(base, tm, winners, [cfg]))


# ---------------------------------------------------------------- FC STDP
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fc_stdp_matches_reference(rng, dtype):
    B, N, M, T = 3, 10, 4, 6
    tm = rng.integers(0, T + 1, (B, N)).astype(np.int32)
    weight = rng.uniform(0.2, 0.8, (M, N)).astype(dtype)
    winners = random_winners(rng, 7, B, M, T, 1, 1)
    cfg = STDPConfig(0.08, -0.06)
    expect = stdp_ref(weight[:, :, None, None], tm[:, :, None, None], winners, [cfg])[:, :, 0, 0]
    for pre in (scatter_ref(tm, T), tm, tm.reshape(B, 2, 5, 1), scatter_ref(tm.reshape(B, 2, 1, 5), T)):
        layer = SimpleNamespace(weight=weight.copy())
        stdp(layer, pre, winners, cfg)
        np.testing.assert_array_equal(layer.weight, expect)


# ---------------------------------------------------------------- R-STDP
def test_rstdp_selects_config_per_winner(rng):
    B, C, T, F = 2, 2, 5, 3
    tm = rng.integers(0, T + 1, (B, C, 5, 5)).astype(np.int32)
    weight = rng.uniform(0.2, 0.8, (F, C, 3, 3)).astype(np.float32)
    winners = random_winners(rng, 8, B, F, T, 3, 3)
    reward = rng.random(8) > 0.5
    good, bad = STDPConfig(0.05, -0.04), STDPConfig(-0.03, 0.02, lower=-0.5, upper=0.9)
    layer = conv_layer(weight.copy())
    rstdp(layer, scatter_ref(tm, T), winners, reward, good, bad)
    which = np.where(reward, 0, 1)
    np.testing.assert_array_equal(layer.weight, stdp_ref(weight, tm, winners, [good, bad], which))
    # all rewarded == plain STDP with the reward config
    a, b = conv_layer(weight.copy()), conv_layer(weight.copy())
    rstdp(a, tm, winners, np.ones(8, bool), good, bad)
    stdp(b, tm, winners, good)
    np.testing.assert_array_equal(a.weight, b.weight)


# ---------------------------------------------------------------- Spyker
def _spyker_winners(winners, B, which=None):
    out = [[] for _ in range(B)]
    for n, (b, f, t, y, x) in enumerate(winners):
        # Spyker's Winner(c, t, z): c = config index, z = feature (conv) ; FC uses x.
        w = spyker.Winner(0 if which is None else int(which[n]), int(t), int(f))
        w.y, w.x = int(y), int(x)
        out[b].append(w)
    return out


@needs_spyker
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1)])
def test_conv_stdp_matches_spyker(rng, stride, padding):
    B, C, H, W, F, T = 2, 2, 6, 6, 3, 5
    tm = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    wave = scatter_ref(tm, T)
    sconv = spyker.Conv(C, F, 3, stride=stride, pad=padding)
    k0 = spyker.to_numpy(sconv.kernel).copy()
    OH, OW = (H + 2 * padding - 3) // stride + 1, (W + 2 * padding - 3) // stride + 1
    # one winner per (sample, feature) position, as WTA produces; several per feature.
    winners = np.array([[0, 0, 2, 1, 1], [0, 2, 1, 0, OW - 1], [0, 0, 0, OH - 1, 0], [1, 1, 3, 2, 0], [1, 0, 4, 0, 1]], np.int32)
    reward = np.array([True, False, True, False, True])
    good, bad = STDPConfig(0.1, -0.05), STDPConfig(-0.07, 0.02, True, -0.5, 0.9)
    sconv.stdpconfig = [spyker.STDPConfig(0.1, -0.05), spyker.STDPConfig(-0.07, 0.02, True, -0.5, 0.9)]
    # Spyker reads the post-synaptic time from its output wave at the winner's position.
    otm = np.full((B, F, OH, OW), T, np.int32)
    otm[winners[:, 0], winners[:, 1], winners[:, 3], winners[:, 4]] = winners[:, 2]
    sconv.stdp(wave, _spyker_winners(winners, B, np.where(reward, 0, 1)), scatter_ref(otm, T))
    layer = conv_layer(k0.copy(), stride, padding)
    rstdp(layer, wave, winners, reward, good, bad)
    np.testing.assert_allclose(layer.weight, spyker.to_numpy(sconv.kernel), rtol=0, atol=2e-7)


@needs_spyker
def test_fc_stdp_matches_spyker_at_time_zero(rng):
    # Spyker's FC.stdp potentiates only inputs that fired at step 0 whatever the winner
    # time; for winners at time 0 that coincides with the rule used here.
    B, N, M, T = 2, 9, 3, 5
    tm = rng.integers(0, T + 1, (B, N)).astype(np.int32)
    fc = spyker.FC(N, M)
    k0 = spyker.to_numpy(fc.kernel).copy()
    fc.stdpconfig = [spyker.STDPConfig(0.1, -0.05)]
    winners = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 0, 0, 0]], np.int32)
    sw = [[], []]
    for b, f, t, _, _ in winners:
        w = spyker.Winner(0, int(t), 0)
        w.y, w.x = 0, int(f)
        sw[b].append(w)
    otm = np.full((B, M), T, np.int32)
    fc.stdp(scatter_ref(tm, T), sw, scatter_ref(otm, T))
    layer = SimpleNamespace(weight=k0.copy())
    stdp(layer, scatter_ref(tm, T), winners, STDPConfig(0.1, -0.05))
    np.testing.assert_allclose(layer.weight, spyker.to_numpy(fc.kernel), rtol=0, atol=2e-7)


# ---------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    a_plus=st.floats(-5, 5),
    a_minus=st.floats(-5, 5),
    stabilize=st.booleans(),
    lower=st.floats(-2, 1),
    width=st.floats(0.01, 3),
    n=st.integers(0, 20),
)
def test_weights_stay_within_bounds(seed, a_plus, a_minus, stabilize, lower, width, n):
    rng = np.random.default_rng(seed)
    upper = lower + width
    cfg = STDPConfig(a_plus, a_minus, stabilize, lower, upper)
    weight = rng.uniform(lower, upper, (3, 2, 2, 2))
    layer = conv_layer(weight)
    tm = rng.integers(0, 4, (2, 2, 4, 4)).astype(np.int32)
    stdp(layer, tm, random_winners(rng, n, 2, 3, 4, 3, 3), cfg)
    assert np.all(layer.weight >= lower) and np.all(layer.weight <= upper)


# ---------------------------------------------------------------- schedule
def test_learning_rate_schedule_kheradpisheh():
    sched = LearningRateSchedule(STDPConfig(0.004, -0.003))
    assert sched.config.a_plus == 0.004
    sched.step(499)
    assert sched.config.a_plus == 0.004
    sched.step(1)
    assert sched.config.a_plus == pytest.approx(0.008)
    assert sched.config.a_minus == pytest.approx(-0.006)
    sched.step(1500)  # three more doublings
    assert sched.config.a_plus == pytest.approx(0.064)
    sched.step(5000)  # capped
    assert sched.config.a_plus == 0.15
    assert sched.config.a_minus == pytest.approx(-0.1125)
    assert sched.samples == 7000


def test_learning_rate_schedule_options():
    s = LearningRateSchedule(STDPConfig(0.01, -0.02, lower=-1.0), factor=3.0, every=2, a_plus_cap=0.05, ratio=-0.5)
    assert s.step(2).a_plus == pytest.approx(0.03)
    assert s.config.a_minus == pytest.approx(-0.015)
    assert s.config.lower == -1.0
    assert s.step(2).a_plus == 0.05
    with pytest.raises(ValueError, match="a_plus"):
        LearningRateSchedule(STDPConfig(-0.01, 0.02))
    with pytest.raises(ValueError, match="every"):
        LearningRateSchedule(STDPConfig(0.01, -0.02), every=0)
    with pytest.raises(ValueError, match="factor"):
        LearningRateSchedule(STDPConfig(0.01, -0.02), factor=0.5)
    with pytest.raises(ValueError, match="n_samples"):
        s.step(-1)


# ---------------------------------------------------------------- bad inputs
def test_config_validation():
    with pytest.raises(ValueError, match="lower"):
        STDPConfig(0.1, -0.1, lower=1.0, upper=1.0)
    with pytest.raises(ValueError, match="lower"):
        STDPConfig(0.1, -0.1, lower=2.0, upper=1.0)
    with pytest.raises(ValueError, match="a_plus"):
        STDPConfig(float("nan"), -0.1)
    with pytest.raises(TypeError, match="a_minus"):
        STDPConfig(0.1, "x")
    with pytest.raises(TypeError, match="stabilize"):
        STDPConfig(0.1, -0.1, stabilize=1)


def test_stdp_bad_inputs():
    cfg = STDPConfig(0.1, -0.1)
    tm = np.zeros((2, 2, 4, 4), np.int32)
    layer = conv_layer(np.full((3, 2, 3, 3), 0.5))
    ok = np.array([[0, 0, 0, 0, 0]], np.int32)
    cases = [
        (ValueError, "batch", np.array([[2, 0, 0, 0, 0]], np.int32)),
        (ValueError, "feature", np.array([[0, 3, 0, 0, 0]], np.int32)),
        (ValueError, "y", np.array([[0, 0, 0, 2, 0]], np.int32)),
        (ValueError, "x", np.array([[0, 0, 0, 0, -1]], np.int32)),
        (ValueError, "time", np.array([[0, 0, -1, 0, 0]], np.int32)),
        (TypeError, "winners", ok.astype(np.int64)),
        (ValueError, "winners", np.zeros((1, 4), np.int32)),
    ]
    for exc, word, winners in cases:
        with pytest.raises(exc, match=word):
            stdp(layer, tm, winners, cfg)
    with pytest.raises(ValueError, match="T=3"):
        stdp(layer, np.zeros((2, 3, 2, 4, 4), np.uint8), np.array([[0, 0, 3, 0, 0]], np.int32), cfg)
    with pytest.raises(TypeError, match="pre"):
        stdp(layer, tm.astype(np.float32), ok, cfg)
    with pytest.raises(ValueError, match="channels"):
        stdp(layer, np.zeros((2, 1, 4, 4), np.int32), ok, cfg)
    with pytest.raises(ValueError, match="pre"):
        stdp(layer, tm - 1, ok, cfg)
    with pytest.raises(TypeError, match="config"):
        stdp(layer, tm, ok, {"a_plus": 0.1})
    with pytest.raises(TypeError, match="weight"):
        stdp(SimpleNamespace(weight=[[0.5]]), tm, ok, cfg)
    with pytest.raises(ValueError, match="weight"):
        stdp(conv_layer(np.full((3, 2, 3, 3), np.nan)), tm, ok, cfg)
    frozen = np.full((3, 2, 3, 3), 0.5)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        stdp(conv_layer(frozen), tm, ok, cfg)
    with pytest.raises(ValueError, match="inputs"):
        stdp(SimpleNamespace(weight=np.full((2, 5), 0.5)), np.zeros((1, 4), np.int32), ok, cfg)
    with pytest.raises(ValueError, match="reward"):
        rstdp(layer, tm, ok, np.ones(2, bool), cfg, cfg)
    with pytest.raises(TypeError, match="reward"):
        rstdp(layer, tm, ok, np.ones(1, np.int32), cfg, cfg)
    assert np.all(layer.weight == 0.5)  # nothing was applied by the failing calls


def test_works_with_package_layers(rng):
    from workbench import snn

    if not (hasattr(snn, "Conv") and hasattr(snn, "FC")):
        pytest.skip("workbench.snn.Conv / FC not available yet")
    conv = snn.Conv(2, 3, 3, stride=2, padding=1, seed=0)
    w0 = conv.weight.copy()
    tm = rng.integers(0, 5, (1, 2, 5, 5)).astype(np.int32)
    winners = np.array([[0, 2, 1, 2, 0], [0, 0, 3, 1, 1]], np.int32)
    cfg = STDPConfig(0.05, -0.05)
    stdp(conv, tm, winners, cfg)
    np.testing.assert_array_equal(conv.weight, stdp_ref(w0, tm, winners, [cfg], stride=(2, 2), padding=(1, 1)))
    fc = snn.FC(6, 2, seed=0)
    f0 = fc.weight.copy()
    tmf = rng.integers(0, 5, (1, 6)).astype(np.int32)
    stdp(fc, tmf, np.array([[0, 1, 2, 0, 0]], np.int32), cfg)
    expect = stdp_ref(f0[:, :, None, None], tmf[:, :, None, None], [(0, 1, 2, 0, 0)], [cfg])[:, :, 0, 0]
    np.testing.assert_array_equal(fc.weight, expect)


def test_wave_pre_uses_first_spike_even_if_not_cumulative(rng):
    # gather semantics: the first step with a 1, whatever follows (and T=1 works).
    T = 4
    wave = (rng.random((2, T, 2, 4, 4)) > 0.7).astype(np.uint8)
    first = np.where(wave.any(1), wave.argmax(1), T).astype(np.int32)
    weight = rng.uniform(0.2, 0.8, (2, 2, 3, 3))
    winners = np.array([[0, 0, 1, 0, 0], [1, 1, 2, 1, 1], [1, 0, 0, 1, 0]], np.int32)
    cfg = STDPConfig(0.1, -0.1)
    a, b = conv_layer(weight.copy()), conv_layer(weight.copy())
    stdp(a, wave, winners, cfg)
    stdp(b, first, winners, cfg)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.weight, stdp_ref(weight, first, winners, [cfg]))
    c = conv_layer(weight.copy())
    stdp(c, wave[:, :1], winners[:, :] * np.array([1, 1, 0, 1, 1], np.int32), cfg)
    np.testing.assert_array_equal(
        c.weight, stdp_ref(weight, np.where(wave[:, 0] > 0, 0, 1).astype(np.int32), winners * np.array([1, 1, 0, 1, 1]), [cfg])
    )
