"""GPU parity: every CUDA op against the CPU core on random and edge-case inputs.

Spikes, time maps and winners must be identical.  Potentials of the spiking convolution
(conv, conv_fire_timemap, fc) must be bit-identical too: the GPU sums them in the CPU's
order (cuda/conv.cu; the same functions are checked on the host by test_conv_order.py).
STDP weights are expected bit-identical as well (same expression, no FMA contraction:
``--fmad=false``); filter banks only agree to float rounding (different algorithms).
Skipped (with the reason) where CuPy or a CUDA device is missing.
"""

import numpy as np
import pytest

from workbench import snn
from workbench.cuda import _runtime

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not _runtime.gpu_available(), reason="no CUDA device (or CuPy missing): GPU parity not run"),
]

RTOL = 1e-5


@pytest.fixture(scope="module")
def cp():
    import cupy

    return cupy


@pytest.fixture(scope="module")
def gpu():
    from workbench import cuda

    return cuda


def _tmap(rng, shape, T, p_silent=0.3):
    t = rng.integers(0, T, shape).astype(np.int32)
    t[rng.random(shape) < p_silent] = T
    return t


SHAPES = [(1, 1, 1, 1), (2, 3, 7, 9), (4, 6, 28, 28)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("T", [1, 15])
def test_coding(cp, gpu, rng, shape, T):
    images = rng.random(shape).astype(np.float32)
    images[..., :1] = 0.5  # ties
    np.testing.assert_array_equal(cp.asnumpy(gpu.rank_code_timemap(cp.asarray(images), T)), snn.rank_code_timemap(images, T))
    zero = np.zeros(shape, np.float32)
    np.testing.assert_array_equal(cp.asnumpy(gpu.rank_code_timemap(cp.asarray(zero), T)), snn.rank_code_timemap(zero, T))
    wave = snn.rank_code(images, T)
    np.testing.assert_array_equal(cp.asnumpy(gpu.gather(cp.asarray(wave))), snn.gather(wave))
    tm = snn.gather(wave)
    np.testing.assert_array_equal(cp.asnumpy(gpu.scatter(cp.asarray(tm), T)), snn.scatter(tm, T))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"), [((1, 1, 1, 1), 1, 1, 0), ((2, 3, 9, 8), 3, 1, 1), ((3, 6, 28, 28), 5, 2, 2)])
def test_conv_dense_and_event(cp, gpu, rng, dtype, shape, kernel, stride, padding):
    T = 15
    tm = _tmap(rng, shape, T)
    w = rng.normal(0.5, 0.3, (5, shape[1], kernel, kernel)).astype(dtype)
    wave = snn.scatter(tm, T)
    ref = snn.conv(wave, w, stride, padding)
    got = cp.asnumpy(gpu.conv(cp.asarray(wave), cp.asarray(w), stride, padding))
    np.testing.assert_array_equal(got, ref)  # same summation order: bit-identical
    rt, rp = snn.conv_fire_timemap(tm, w, 1.0, T, stride, padding)
    gt, gp = gpu.conv_fire_timemap(cp.asarray(tm), cp.asarray(w), 1.0, T, stride, padding)
    np.testing.assert_array_equal(cp.asnumpy(gt), rt)
    np.testing.assert_array_equal(cp.asnumpy(gp), rp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_spikes_at_the_threshold_edge(cp, gpu, rng, dtype):
    # weights over 8 decades (the order of additions changes the rounding) and thresholds
    # exactly at, and one ulp below, potentials that are reached
    T = 6
    tm = _tmap(rng, (2, 4, 10, 9), T)
    w = (rng.normal(0, 1, (5, 4, 3, 3)) * 10.0 ** rng.integers(-3, 6, (5, 4, 3, 3))).astype(dtype)
    ref = snn.conv(snn.scatter(tm, T), w, 1, 1)
    picks = rng.choice(ref[np.nonzero(ref)], size=4, replace=False)
    for thr in [0.0, -1.0, *picks, *(np.nextafter(p, dtype(-np.inf)) for p in picks)]:
        rt, rp = snn.conv_fire_timemap(tm, w, float(thr), T, 1, 1)
        gt, gp = gpu.conv_fire_timemap(cp.asarray(tm), cp.asarray(w), float(thr), T, 1, 1)
        np.testing.assert_array_equal(cp.asnumpy(gt), rt)
        np.testing.assert_array_equal(cp.asnumpy(gp), rp)


def test_validation_runs_on_device_arrays(cp, gpu, rng):
    # the shared validators' reductions on real CuPy arrays
    pot = np.cumsum(rng.random((2, 4, 3, 5, 5)), axis=1).astype(np.float32)
    bad = pot.copy()
    bad[1, 2, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="potentials contains NaN"):
        gpu.first_spike(cp.asarray(bad), 0.5)
    with pytest.raises(ValueError, match="potentials contains NaN"):
        snn.first_spike(cp.asarray(bad), 0.5)  # through the public dispatch
    tm, spk = snn.first_spike(pot, 0.5)
    with pytest.raises(ValueError, match="tmap values must lie"):
        gpu.inhibit_timemap(cp.asarray(tm + 5), cp.asarray(spk), 4)
    win = snn.conv_wta(pot, 1, 2, 0.5)
    layer = snn.Conv(3, 2, 3, padding=1, seed=0).to("cuda")
    with pytest.raises(TypeError, match="winners must have dtype int32"):
        gpu.stdp(layer, cp.asarray(tm[:, :3]), cp.asarray(win.astype(np.int64)), snn.STDPConfig(0.1, -0.1))


def test_fc(cp, gpu, rng):
    T = 10
    wave = snn.scatter(_tmap(rng, (3, 40), T), T)
    w = rng.random((7, 40)).astype(np.float32)
    np.testing.assert_array_equal(cp.asnumpy(gpu.fc(cp.asarray(wave), cp.asarray(w))), snn.fc(wave, w))


@pytest.mark.parametrize("threshold", [0.0, 2.0])
def test_fire_inhibit_wta(cp, gpu, rng, threshold):
    T = 8
    # small integers: many ties in time and potential
    pot = np.cumsum(rng.integers(0, 2, (3, T, 5, 9, 9)), axis=1).astype(np.float32)
    np.testing.assert_array_equal(cp.asnumpy(gpu.fire(cp.asarray(pot), threshold)), snn.fire(pot, threshold))
    ct, cs = snn.first_spike(pot, threshold)
    gt, gs = gpu.first_spike(cp.asarray(pot), threshold)
    np.testing.assert_array_equal(cp.asnumpy(gt), ct)
    np.testing.assert_array_equal(cp.asnumpy(gs), cs)
    np.testing.assert_array_equal(cp.asnumpy(gpu.inhibit(cp.asarray(pot), threshold)), snn.inhibit(pot, threshold))
    it, ip = snn.inhibit_timemap(ct, cs, T)
    jt, jp = gpu.inhibit_timemap(cp.asarray(ct), cp.asarray(cs), T)
    np.testing.assert_array_equal(cp.asnumpy(jt), it)
    np.testing.assert_array_equal(cp.asnumpy(jp), ip)
    for radius, count in [(0, 1), (1, 3), (2, 20)]:
        ref = snn.conv_wta(pot, radius, count, threshold)
        got = cp.asnumpy(gpu.conv_wta(cp.asarray(pot), radius, count, threshold))
        np.testing.assert_array_equal(got, ref)
        ref_t = snn.conv_wta_timemap(ct, cs, radius, count, T)
        got_t = cp.asnumpy(gpu.conv_wta_timemap(cp.asarray(ct), cp.asarray(cs), radius, count, T))
        np.testing.assert_array_equal(got_t, ref_t)


def test_all_zero_input_gives_no_winners(cp, gpu):
    pot = np.zeros((2, 4, 3, 5, 5), np.float32)
    assert len(gpu.conv_wta(cp.asarray(pot), 1, 3)) == 0 == len(snn.conv_wta(pot, 1, 3))


@pytest.mark.parametrize("stabilize", [True, False])
def test_stdp(cp, gpu, rng, stabilize):
    T = 15
    pre = _tmap(rng, (4, 3, 12, 12), T)
    layer = snn.Conv(3, 6, 5, padding=2, mean=0.6, std=0.1, seed=1)
    w_gpu = cp.asarray(layer.weight)
    out, pot = snn.conv_fire_timemap(pre, layer.weight, 2.0, T, 1, 2)
    winners = snn.conv_wta_timemap(out, pot, 2, 3, T)
    config = snn.STDPConfig(0.05, -0.04, stabilize=stabilize)
    snn.stdp(layer, pre, winners, config)
    gpu.stdp_update(w_gpu, cp.asarray(pre), cp.asarray(winners), 0.05, -0.04, stabilize=stabilize, padding=2)
    np.testing.assert_array_equal(cp.asnumpy(w_gpu), layer.weight)  # no FMA contraction: same rounding


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, 2, 0), (3, 3, 1), (2, 1, 1)])
def test_pool_and_pad(cp, gpu, rng, kernel, stride, padding):
    T = 9
    tm = _tmap(rng, (2, 3, 11, 10), T)
    ref = snn.pool_timemap(tm, kernel, stride, padding, T)
    np.testing.assert_array_equal(cp.asnumpy(gpu.pool_timemap(cp.asarray(tm), kernel, stride, padding, T)), ref)
    # without padding T is optional (the GPU used to return all zeros then)
    ref0 = snn.pool_timemap(tm, kernel, stride)
    np.testing.assert_array_equal(cp.asnumpy(gpu.pool_timemap(cp.asarray(tm), kernel, stride)), ref0)
    np.testing.assert_array_equal(cp.asnumpy(gpu.pad_timemap(cp.asarray(tm), padding, T)), snn.pad_timemap(tm, padding, T))
    wave = snn.scatter(tm, T)
    np.testing.assert_array_equal(cp.asnumpy(gpu.max_pool(cp.asarray(wave), kernel, stride, padding)), snn.max_pool(wave, kernel, stride, padding))


def test_public_api_dispatches_cupy_arrays(cp, rng):
    T = 15
    images = rng.random((3, 1, 20, 20)).astype(np.float32)
    dog = snn.DoG(3, [(1.0, 2.0), (2.0, 1.0)], pad=3)
    np.testing.assert_allclose(cp.asnumpy(dog(cp.asarray(images))), dog(images), rtol=1e-4, atol=1e-6)
    log = snn.LoG(2, [1.0, 2.0], pad=2)
    np.testing.assert_allclose(cp.asnumpy(log(cp.asarray(images))), log(images), rtol=1e-4, atol=1e-6)
    x = dog(images)
    tm = snn.sparse.code(x, T)
    tm_gpu = snn.sparse.code(cp.asarray(x), T)
    assert isinstance(tm_gpu, cp.ndarray)
    np.testing.assert_array_equal(cp.asnumpy(tm_gpu), tm)
    layer = snn.Conv(2, 4, 5, padding=2, seed=0)
    gpu_layer = snn.Conv(2, 4, 5, padding=2, seed=0).to("cuda")
    assert gpu_layer.device == "cuda"
    wave = snn.scatter(tm, T)
    np.testing.assert_allclose(cp.asnumpy(gpu_layer(cp.asarray(wave))), layer(wave), rtol=RTOL, atol=1e-5)
    out, pot = snn.sparse.conv(tm, layer.weight, 3.0, T, 1, 2)
    win = snn.sparse.conv_wta(*snn.sparse.inhibit(out, pot, T), 2, 3, T)
    g_out, g_pot = snn.sparse.conv(tm_gpu, gpu_layer.weight, 3.0, T, 1, 2)
    g_win = snn.sparse.conv_wta(*snn.sparse.inhibit(g_out, g_pot, T), 2, 3, T)
    np.testing.assert_array_equal(cp.asnumpy(g_win), win)
    config = snn.STDPConfig(0.05, -0.04)
    snn.sparse.stdp(layer, tm, win, config)
    snn.sparse.stdp(gpu_layer, tm_gpu, g_win, config)
    np.testing.assert_allclose(cp.asnumpy(gpu_layer.weight), layer.weight, rtol=RTOL, atol=1e-6)
    with pytest.raises(TypeError, match="two devices"):
        snn.conv(cp.asarray(wave), layer.weight)
    assert gpu_layer.to("cpu").device == "cpu"


# ---------------------------------------------------------------- decision (max potential)
DECISION_CASES = [  # B, C, H, W, F, k, padding, T
    (1, 1, 1, 1, 1, 1, (0, 0), 1),  # batch of 1, 1x1 map, T=1
    (6, 3, 5, 5, 6, 3, (0, 0), 5),
    (5, 2, 4, 6, 4, 3, (1, 2), 4),
    (40, 250, 4, 4, 200, 5, (2, 2), 15),  # Mozafari 2019's decision layer (250 -> 200, 5x5, pad 2)
]


def _decision_inputs(rng, B, C, H, W, F, k, T, dtype):
    weight = rng.random((F, C, k, k)).astype(dtype)  # any weights: same summation order as the CPU
    tmap = _tmap(rng, (B, C, H, W), T, 0.5)
    tmap[0, :, : H // 2] = T
    if B > 2:
        tmap[1] = T  # silent: undecided
        tmap[2] = 0  # all fired: ties
    return weight, tmap


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("B", "C", "H", "W", "F", "k", "padding", "T"), DECISION_CASES)
def test_max_potential_decide(cp, gpu, rng, dtype, B, C, H, W, F, k, padding, T):
    weight, tmap = _decision_inputs(rng, B, C, H, W, F, k, T, dtype)
    active = rng.random(F) < 0.8
    for act in (None, active):
        ref = snn.max_potential_decide(tmap, weight, T, padding, act)
        g_act = None if act is None else cp.asarray(act)
        got = gpu.max_potential_decide(cp.asarray(tmap), cp.asarray(weight), T, padding, g_act)
        assert got.dtype == cp.int32 and got.shape == (B, 3)
        np.testing.assert_array_equal(cp.asnumpy(got), ref)
        via_api = snn.max_potential_decide(cp.asarray(tmap), cp.asarray(weight), T, padding, g_act)
        np.testing.assert_array_equal(cp.asnumpy(via_api), ref)
    # ties: every neuron equal -> (0, 0, 0); all features dropped -> undecided
    flat = np.full_like(weight, 0.5)
    full = np.zeros_like(tmap)
    np.testing.assert_array_equal(cp.asnumpy(gpu.max_potential_decide(cp.asarray(full), cp.asarray(flat), T, padding)),
                                  snn.max_potential_decide(full, flat, T, padding))
    none = gpu.max_potential_decide(cp.asarray(tmap), cp.asarray(weight), T, padding, cp.zeros(F, bool))
    assert (cp.asnumpy(none) == [-1, 0, 0]).all()


@pytest.mark.parametrize("stabilize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("B", "C", "H", "W", "F", "k", "padding", "T"), DECISION_CASES)
def test_max_potential_rstdp(cp, gpu, rng, stabilize, dtype, B, C, H, W, F, k, padding, T):
    weight, tmap = _decision_inputs(rng, B, C, H, W, F, k, T, dtype)
    lower, upper = (0.0, 1.0) if stabilize else (0.125, 0.875)
    reward = snn.STDPConfig(0.0371, -0.0293, stabilize=stabilize, lower=lower, upper=upper)  # products round
    punish = snn.STDPConfig(-0.0417, 0.0113, stabilize=stabilize, lower=lower, upper=upper)
    labels = rng.integers(0, 10, B)
    feature_class = np.arange(F) % 10
    active = np.ones(F, bool)
    active[-1] = F == 1
    w_cpu = weight.copy()
    ref = snn.max_potential_rstdp(tmap, w_cpu, T, labels, feature_class, reward, punish, padding, active)
    w_gpu = cp.asarray(weight)
    got = gpu.max_potential_rstdp(cp.asarray(tmap), w_gpu, T, cp.asarray(labels), cp.asarray(feature_class), reward,
                                  punish, padding, cp.asarray(active))
    np.testing.assert_array_equal(cp.asnumpy(got), ref)
    np.testing.assert_array_equal(cp.asnumpy(w_gpu), w_cpu)  # same expression, no FMA: bit-identical
    # through the public API, into a strided view (updated in place as on the CPU)
    big = cp.zeros((F, C, k, 2 * k), dtype)
    view = big[..., ::2]
    view[...] = cp.asarray(weight)
    via_api = snn.max_potential_rstdp(cp.asarray(tmap), view, T, cp.asarray(labels), cp.asarray(feature_class), reward,
                                      punish, padding=padding, active=cp.asarray(active))
    np.testing.assert_array_equal(cp.asnumpy(via_api), ref)
    np.testing.assert_array_equal(cp.asnumpy(view), w_cpu)
    assert not cp.asnumpy(big[..., 1::2]).any()


def test_max_potential_gpu_limits_and_devices(cp, gpu, rng):
    weight = rng.random((4, 64, 3, 3)).astype(np.float32)
    tmap = _tmap(rng, (2, 64, 32, 32), 4)  # 64 KiB of fired flags: more than a block's shared memory
    snn.max_potential_decide(tmap, weight, 4)  # the CPU takes it
    with pytest.raises(ValueError, match="shared memory"):
        gpu.max_potential_decide(cp.asarray(tmap), cp.asarray(weight), 4)
    small = cp.asarray(tmap[:, :2, :5, :5])
    with pytest.raises(TypeError, match="labels must be a cupy.ndarray"):
        gpu.max_potential_rstdp(small, cp.asarray(weight[:, :2]), 4, np.zeros(2, np.int64), cp.zeros(4, cp.int64),
                                snn.STDPConfig(0.1, -0.1), snn.STDPConfig(-0.1, 0.1))
    with pytest.raises(TypeError, match="two devices"):
        snn.max_potential_decide(small, weight[:, :2], 4)
