"""The GPU ops validate exactly as their CPU twins, checked without a GPU.

``FakeDeviceArray`` (a NumPy view) is registered as the GPU array type for the duration of
a test, and CuPy is hidden, so every ``workbench.cuda`` op runs its real validation code on
it; an op whose inputs pass validation then stops at the first CuPy call with
"CuPy is not installed".  That is honest about what is tested: the validation path of the
GPU ops (shared with the CPU in :mod:`workbench.snn._checks`), not the kernels (those are
covered by test_cuda_parity.py on a device and test_conv_order.py on the host).

Every bad input below is given to the CPU op (NumPy) and to the GPU op (fake device
arrays): both must raise the same exception class, and both messages must name the
argument.  Every valid input must pass the GPU op's validation.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from workbench import snn
from workbench.cuda import _runtime
from workbench.snn import _dispatch


class FakeDeviceArray(np.ndarray):
    """Stands for cupy.ndarray: metadata and reductions behave like CuPy's, data on the host."""


def dev(x):
    """The GPU-side copy of an argument: arrays become fake device arrays, layers carry them."""
    if isinstance(x, np.ndarray):
        return np.array(x).view(FakeDeviceArray)
    if hasattr(x, "weight") and isinstance(x.weight, np.ndarray):
        return SimpleNamespace(weight=dev(x.weight), stride=getattr(x, "stride", 1), padding=getattr(x, "padding", 0))
    return x


NO_CUPY = "CuPy is not installed"


@pytest.fixture
def gpu(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", (FakeDeviceArray,))
    monkeypatch.setattr(_runtime, "_cupy", None)  # also on a machine that has CuPy
    import workbench.cuda as cuda_mod

    return cuda_mod


# ---------------------------------------------------------------- inputs
T = 4
RNG = np.random.default_rng(7)
IMAGES = RNG.random((2, 2, 6, 6)).astype(np.float32)
TMAP = RNG.integers(0, T + 1, (2, 2, 6, 6)).astype(np.int32)
WAVE = snn.scatter(TMAP, T)
WEIGHT = RNG.random((3, 2, 3, 3)).astype(np.float32)
POT5 = np.cumsum(RNG.random((2, T, 3, 5, 5)), axis=1).astype(np.float32)
POT3 = np.cumsum(RNG.random((2, T, 6)), axis=1).astype(np.float32)
SPK = RNG.random((2, 2, 6, 6)).astype(np.float32)
FC_WAVE = snn.scatter(RNG.integers(0, T + 1, (2, 10)).astype(np.int32), T)
FC_WEIGHT = RNG.random((5, 10)).astype(np.float32)
OUT_T, OUT_P = snn.conv_fire_timemap(TMAP, WEIGHT, 1.0, T, 1, 1)
WINNERS = snn.conv_wta_timemap(OUT_T, OUT_P, 1, 2, T)
CONFIG = snn.STDPConfig(0.05, -0.04)


def layer(weight=WEIGHT, stride=1, padding=1):
    return SimpleNamespace(weight=weight.copy(), stride=stride, padding=padding)


def fc_layer():
    return SimpleNamespace(weight=FC_WEIGHT.copy())


def with_nan(x, value=np.nan):
    y = x.copy()
    y.flat[-1] = value
    return y


assert len(WINNERS) > 0  # the STDP cases below need winners

# op name -> valid (args, kwargs)
VALID = {
    "gather": ((WAVE,), {}),
    "scatter": ((TMAP, T), {}),
    "rank_code_timemap": ((IMAGES, T), {}),
    "rank_code": ((IMAGES, T), {}),
    "infinite": ((WAVE,), {}),
    "conv": ((WAVE, WEIGHT, 1, 1), {}),
    "conv_fire_timemap": ((TMAP, WEIGHT, 1.0, T, 1, 1), {}),
    "fc": ((FC_WAVE, FC_WEIGHT), {}),
    "threshold": ((POT5, 0.5), {}),
    "quantize": ((POT5, 0.0, 0.5, 1.0), {}),
    "fire": ((POT5, 0.5), {}),
    "first_spike": ((POT5, 0.5), {}),
    "inhibit": ((POT5, 0.5), {}),
    "inhibit_timemap": ((TMAP, SPK, T), {}),
    "conv_wta": ((POT5, 1, 2, 0.5), {}),
    "conv_wta_timemap": ((TMAP, SPK, 1, 2, T), {}),
    "fc_wta": ((POT3, 2, 0.5), {}),
    "pad": ((WAVE, 1), {}),
    "pad_timemap": ((TMAP, 1, T), {}),
    "pool_timemap": ((TMAP, 2, 2, 1, T), {}),
    "max_pool": ((WAVE, 2), {}),
    "stdp": ((layer(), TMAP, WINNERS, CONFIG), {}),
    "rstdp": ((layer(), WAVE, WINNERS, np.arange(len(WINNERS)) % 2 == 0, CONFIG, snn.STDPConfig(-0.01, 0.01)), {}),
    "max_potential_decide": ((TMAP, WEIGHT, T, 1, np.array([True, False, True])), {}),
    "max_potential_rstdp": ((TMAP, WEIGHT.copy(), T, np.array([0, 1]), np.arange(3) % 2, CONFIG,
                             snn.STDPConfig(-0.05, 0.04)), {"padding": 1}),
}


def bad(op, argname, args, exc=None, **kwargs):
    return pytest.param(op, argname, args, kwargs, exc, id=f"{op}-{argname}-{len(BAD)}")


BAD: list = []


def add(op, argname, *args, **kwargs):
    BAD.append(bad(op, argname, args, **kwargs))


# coding
add("gather", "wave", WAVE.astype(np.int64))
add("gather", "wave", WAVE[:, :, 0])
add("gather", "wave", WAVE[:, :0])
add("gather", "wave", WAVE.tolist())
add("scatter", "tmap", TMAP.astype(np.int64), T)
add("scatter", "tmap", TMAP + 1, T)
add("scatter", "tmap", TMAP - 1, T)
add("scatter", "tmap", TMAP[0, 0, 0], T)
add("scatter", "T", TMAP, 0)
add("scatter", "T", TMAP, 4.0)
add("scatter", "T", TMAP, None)
for op in ("rank_code_timemap", "rank_code"):
    add(op, "images", with_nan(IMAGES), T)
    add(op, "images", with_nan(IMAGES, np.inf), T)
    add(op, "images", IMAGES.astype(np.float16), T)
    add(op, "images", IMAGES[0], T)
    add(op, "images", IMAGES[:, :0], T)
    add(op, "T", IMAGES, 0)
    add(op, "T", IMAGES, 70000)
    add(op, "sort", IMAGES, T, "yes")
add("infinite", "wave", WAVE[:, :, 0])
add("infinite", "wave", WAVE.astype(np.int32))
# conv / fc
add("conv", "wave", WAVE.astype(np.float32), WEIGHT)
add("conv", "wave", WAVE[:, :, :, :0], WEIGHT)
add("conv", "weight", WAVE, with_nan(WEIGHT))
add("conv", "weight", WAVE, WEIGHT.astype(np.int32))
add("conv", "weight", WAVE, WEIGHT[0])
add("conv", "channel", WAVE, WEIGHT[:, :1])
add("conv", "stride", WAVE, WEIGHT, 0)
add("conv", "padding", WAVE, WEIGHT, 1, -1)
add("conv", "kernel_size", WAVE, np.ones((3, 2, 9, 9), np.float32))
add("conv_fire_timemap", "tmap", TMAP.astype(np.int64), WEIGHT, 1.0, T)
add("conv_fire_timemap", "tmap", TMAP + 1, WEIGHT, 1.0, T)
add("conv_fire_timemap", "weight", TMAP, with_nan(WEIGHT, -np.inf), 1.0, T)
add("conv_fire_timemap", "threshold", TMAP, WEIGHT, np.nan, T)
add("conv_fire_timemap", "threshold", TMAP, WEIGHT, "1", T)
add("conv_fire_timemap", "T", TMAP, WEIGHT, 1.0, 0)
add("conv_fire_timemap", "T", TMAP, WEIGHT, 1.0, None)
add("conv_fire_timemap", "channel", TMAP, WEIGHT[:, :1], 1.0, T)
add("conv_fire_timemap", "stride", TMAP, WEIGHT, 1.0, T, (1, 0))
add("fc", "wave", FC_WAVE[0], FC_WEIGHT)
add("fc", "wave", FC_WAVE.astype(np.float64), FC_WEIGHT)
add("fc", "input feature", FC_WAVE, FC_WEIGHT[:, :9])
add("fc", "weight", FC_WAVE, with_nan(FC_WEIGHT))
add("fc", "sign", FC_WAVE, FC_WEIGHT, "no")
# fire
add("threshold", "potentials", with_nan(POT5), 0.5)
add("threshold", "potentials", POT5.astype(np.int32), 0.5)
add("threshold", "threshold", POT5, np.nan)
add("threshold", "value", POT5, 0.5, np.inf)
add("quantize", "x", with_nan(POT5), 0.0, 0.5, 1.0)
add("quantize", "middle", POT5, 0.0, np.nan, 1.0)
add("fire", "potentials", with_nan(POT5), 0.5)
add("fire", "potentials", with_nan(POT5), 0.5, "rate")
add("fire", "potentials", POT5[:, :, 0, 0, 0], 0.5)
add("fire", "potentials", np.zeros((1, 256, 2), np.float32), 0.5, "rate")
add("fire", "method", POT5, 0.5, "ramp")
add("fire", "threshold", POT5, np.inf)
add("first_spike", "potentials", with_nan(POT5), 0.5)
add("first_spike", "potentials", with_nan(POT3, -np.inf), 0.5)
add("first_spike", "potentials", POT5[0, 0, 0], 0.5)
add("first_spike", "potentials", POT5.astype(np.float16), 0.5)
add("first_spike", "threshold", POT5, None)
# inhibit / wta
add("inhibit", "potentials", with_nan(POT5), 0.5)
add("inhibit", "potentials", POT3, 0.5)
add("inhibit", "threshold", POT5, -1.0)
add("inhibit_timemap", "tmap", TMAP.astype(np.int64), SPK, T)
add("inhibit_timemap", "tmap", TMAP + 1, SPK, T)
add("inhibit_timemap", "tmap", TMAP - 1, SPK, T)
add("inhibit_timemap", "spike_potential", TMAP, SPK[..., :3], T)
add("inhibit_timemap", "spike_potential", TMAP, with_nan(SPK), T)
add("inhibit_timemap", "spike_potential", TMAP, SPK.astype(np.int32), T)
add("inhibit_timemap", "T", TMAP, SPK, None)
add("inhibit_timemap", "T", TMAP, SPK, 0)
add("conv_wta", "potentials", with_nan(POT5), 1, 2)
add("conv_wta", "potentials", POT3, 1, 2)
add("conv_wta", "radius", POT5, -1, 2)
add("conv_wta", "count", POT5, 1, -1)
add("conv_wta", "count", POT5, 1, 1.5)
add("conv_wta", "threshold", POT5, 1, 2, np.nan)
add("conv_wta_timemap", "tmap", TMAP + 1, SPK, 1, 2, T)
add("conv_wta_timemap", "tmap", TMAP.astype(np.uint8), SPK, 1, 2, T)
add("conv_wta_timemap", "spike_potential", TMAP, with_nan(SPK), 1, 2, T)
add("conv_wta_timemap", "spike_potential", TMAP, SPK[:1], 1, 2, T)
add("conv_wta_timemap", "radius", TMAP, SPK, (1, -1), 2, T)
add("conv_wta_timemap", "count", TMAP, SPK, 1, -2, T)
add("conv_wta_timemap", "T", TMAP, SPK, 1, 2, None)
add("fc_wta", "potentials", POT5, 2)
add("fc_wta", "potentials", with_nan(POT3), 2)
add("fc_wta", "count", POT3, -1)
add("fc_wta", "radius", POT3, 2, 0.5, -1)
add("fc_wta", "threshold", POT3, 2, np.inf)
# pool / pad
add("pad", "x", WAVE[0, 0], 1)
add("pad", "x", WAVE.astype(np.int64), 1)
add("pad", "x", with_nan(POT5), 1)
add("pad", "value", WAVE, 1, 300)
add("pad", "value", TMAP, 1, 0.5)
add("pad", "padding", WAVE, -1)
add("pad", "padding", WAVE, (1, 2, 3))
add("pad_timemap", "T", TMAP, 1)
add("pad_timemap", "T", TMAP, 1, 0)
add("pad_timemap", "tmap", TMAP + 1, 1, T)
add("pad_timemap", "tmap", TMAP.astype(np.int64), 1, T)
add("pad_timemap", "padding", TMAP, "1", T)
add("pool_timemap", "kernel", TMAP, 0)
add("pool_timemap", "stride", TMAP, 2, 0)
add("pool_timemap", "kernel", TMAP, 9)
add("pool_timemap", "tmap", TMAP - 1, 2)
add("pool_timemap", "tmap", TMAP[0], 2)
add("pool_timemap", "T", TMAP, 2, 2, 1)
add("pool_timemap", "tmap", TMAP + 1, 2, 2, 1, T)
add("max_pool", "wave", WAVE[0], 2)
add("max_pool", "wave", WAVE.astype(np.int32), 2)
add("max_pool", "wave", with_nan(POT5), 2)
add("max_pool", "kernel", WAVE, 7)
add("max_pool", "stride", WAVE, 2, -1)
# stdp / rstdp (the review's example: int64 winners must be rejected, not cast)
add("stdp", "winners", layer(), TMAP, WINNERS.astype(np.int64), CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS[:, :4], CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS[:, 0], CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS + np.array([2, 0, 0, 0, 0], np.int32), CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS + np.array([0, 3, 0, 0, 0], np.int32), CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS + np.array([0, 0, 0, 6, 0], np.int32), CONFIG)
add("stdp", "winners", layer(), TMAP, WINNERS - np.array([0, 0, 9, 0, 0], np.int32), CONFIG)
add("stdp", "winners", layer(), WAVE, WINNERS + np.array([0, 0, T, 0, 0], np.int32), CONFIG)
add("stdp", "weight", layer(with_nan(WEIGHT)), TMAP, WINNERS, CONFIG)
add("stdp", "weight", SimpleNamespace(weight=None), TMAP, WINNERS, CONFIG)
add("stdp", "pre", layer(), TMAP.astype(np.float32), WINNERS, CONFIG)
add("stdp", "pre", layer(), TMAP - 1, WINNERS, CONFIG)
add("stdp", "pre", layer(), TMAP[:, :1], WINNERS, CONFIG)
add("stdp", "pre", layer(), TMAP.reshape(2, -1), WINNERS, CONFIG)
add("stdp", "pre", fc_layer(), TMAP, WINNERS, CONFIG)
add("stdp", "config", layer(), TMAP, WINNERS, "fast")
add("stdp", "padding", layer(padding=-1), TMAP, WINNERS, CONFIG)
add("rstdp", "reward", layer(), TMAP, WINNERS, np.ones(len(WINNERS), np.int8), CONFIG, CONFIG)
add("rstdp", "reward", layer(), TMAP, WINNERS, np.ones(len(WINNERS) + 1, bool), CONFIG, CONFIG)
add("rstdp", "punish_config", layer(), TMAP, WINNERS, np.ones(len(WINNERS), bool), CONFIG, None)
add("rstdp", "winners", layer(), TMAP, WINNERS.astype(np.int64), np.ones(len(WINNERS), bool), CONFIG, CONFIG)
LABELS, CLASSES = np.zeros(2, np.int64), np.arange(3) % 2
add("max_potential_decide", "tmap", TMAP.astype(np.int64), WEIGHT, T)
add("max_potential_decide", "tmap", TMAP + 1, WEIGHT, T)
add("max_potential_decide", "channel", TMAP, WEIGHT[:, :1], T)
add("max_potential_decide", "weight", TMAP, with_nan(WEIGHT), T)
add("max_potential_decide", "T", TMAP, WEIGHT, 0)
add("max_potential_decide", "padding", TMAP, WEIGHT, T, -1)
add("max_potential_decide", "active", TMAP, WEIGHT, T, 0, np.ones(2, bool))
add("max_potential_decide", "active", TMAP, WEIGHT, T, 0, np.ones(3, np.uint8))
add("max_potential_rstdp", "labels", TMAP, WEIGHT, T, np.zeros(3, np.int64), CLASSES, CONFIG, CONFIG)
add("max_potential_rstdp", "labels", TMAP, WEIGHT, T, LABELS.astype(float), CLASSES, CONFIG, CONFIG)
add("max_potential_rstdp", "feature_class", TMAP, WEIGHT, T, LABELS, np.zeros(4, np.int64), CONFIG, CONFIG)
add("max_potential_rstdp", "share upper", TMAP, WEIGHT, T, LABELS, CLASSES, CONFIG, snn.STDPConfig(-0.1, 0.1, upper=0.5))
add("max_potential_rstdp", "reward_config", TMAP, WEIGHT, T, LABELS, CLASSES, (0.1, -0.1), CONFIG)


def _call(fn, args, kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(("op", "argname", "args", "kwargs", "exc"), BAD)
def test_gpu_op_rejects_what_the_cpu_op_rejects(gpu, op, argname, args, kwargs, exc):
    cpu_err = _call(getattr(snn, op), args, kwargs)
    gpu_err = _call(getattr(gpu, op), tuple(dev(a) for a in args), {k: dev(v) for k, v in kwargs.items()})
    assert isinstance(cpu_err, (TypeError, ValueError)), repr(cpu_err)
    assert type(gpu_err) is type(cpu_err), (repr(cpu_err), repr(gpu_err))
    assert argname in str(cpu_err) and argname in str(gpu_err), (str(cpu_err), str(gpu_err))
    assert NO_CUPY not in str(gpu_err)


@pytest.mark.parametrize("op", sorted(VALID))
def test_valid_inputs_pass_gpu_validation(gpu, op):
    args, kwargs = VALID[op]
    cpu_args = tuple(a.copy() if isinstance(a, np.ndarray) else (layer(a.weight, a.stride, a.padding) if hasattr(a, "weight") else a) for a in args)
    getattr(snn, op)(*cpu_args, **kwargs)  # the CPU accepts them
    try:
        getattr(gpu, op)(*(dev(a) for a in args), **kwargs)
    except RuntimeError as err:  # got past validation, stopped at the first CuPy call
        assert NO_CUPY in str(err)


def test_every_public_gpu_op_is_covered():
    import workbench.cuda as cuda_mod

    gpu_only = {"devices", "to_device", "correlate2d", "filter_bank", "stdp_update", "infinite_timemap"}
    covered = set(VALID) | {p.values[0] for p in BAD}
    assert set(cuda_mod.__all__) - {"gpu_available", "is_cupy_array"} - gpu_only == covered


def test_a_numpy_array_is_rejected_by_a_gpu_op(gpu):
    with pytest.raises(TypeError, match=r"potentials must be a cupy\.ndarray, got ndarray"):
        gpu.first_spike(POT5, 0.5)
    with pytest.raises(TypeError, match="winners must be a cupy.ndarray"):
        gpu.stdp(dev(layer()), dev(TMAP), WINNERS, CONFIG)


def test_review_findings(gpu):
    # NaN potentials used to pass on the GPU; int64 winners used to be cast.
    with pytest.raises(ValueError, match="potentials contains NaN"):
        gpu.first_spike(dev(with_nan(POT5)), 0.5)
    with pytest.raises(TypeError, match="winners must have dtype int32, got int64"):
        gpu.stdp(dev(layer()), dev(TMAP), dev(WINNERS.astype(np.int64)), CONFIG)
    with pytest.raises(TypeError, match="T must be an integer"):
        gpu.inhibit_timemap(dev(TMAP), dev(SPK), None)


def test_gpu_only_limits_come_after_validation(gpu):
    # what the GPU cannot do raises NotImplementedError / ValueError naming the limit,
    # only for input the CPU accepts
    counts = WAVE.copy()
    counts[:, -1] *= 2  # a count wave: valid input, CPU-only path
    snn.conv(counts, WEIGHT)
    with pytest.raises(NotImplementedError, match="cumulative"):
        gpu.conv(dev(counts), dev(WEIGHT))
    with pytest.raises(NotImplementedError, match="cumulative"):
        gpu.max_pool(dev(counts), 2)
    with pytest.raises(NotImplementedError, match="float"):
        gpu.max_pool(dev(POT5), 2)
    with pytest.raises(NotImplementedError, match="sort=False"):
        gpu.rank_code_timemap(dev(IMAGES), T, False)
    with pytest.raises(NotImplementedError, match="radius"):
        gpu.fc_wta(dev(POT3), 2, 0.5, 1)
    big = np.zeros((1, 1, 2, 2), np.int32)
    with pytest.raises(ValueError, match="1024"):
        gpu.conv_fire_timemap(dev(big), dev(WEIGHT[:, :1, :1, :1]), 1.0, 2000)
    with pytest.raises(TypeError, match="C-contiguous"):
        strided = SimpleNamespace(weight=dev(np.zeros((3, 2, 3, 6), np.float32))[..., ::2], stride=1, padding=1)
        gpu.stdp(strided, dev(TMAP), dev(WINNERS), CONFIG)
    with pytest.raises(NotImplementedError, match="bounds"):
        gpu.rstdp(dev(layer()), dev(TMAP), dev(WINNERS), dev(np.ones(len(WINNERS), bool)), CONFIG,
                  snn.STDPConfig(0.1, -0.1, upper=2.0))


def test_gpu_only_helpers_validate(gpu):
    with pytest.raises(ValueError, match="images contains NaN"):
        gpu.correlate2d(dev(with_nan(IMAGES)), dev(WEIGHT))
    with pytest.raises(ValueError, match="input channel"):
        gpu.correlate2d(dev(IMAGES), dev(WEIGHT[:, :1]))
    with pytest.raises(ValueError, match="mode"):
        gpu.filter_bank(np.ones((1, 3, 3)), dev(IMAGES), (0, 0, 0, 0), "off")
    with pytest.raises(ValueError, match="tmap values must lie"):
        gpu.infinite_timemap(dev(TMAP + 1), T)
    with pytest.raises(TypeError, match="winners must have dtype int32"):
        gpu.stdp_update(dev(WEIGHT), dev(TMAP), dev(WINNERS.astype(np.int64)), 0.1, -0.1, padding=1)
    with pytest.raises(ValueError, match="a_plus"):
        gpu.stdp_update(dev(WEIGHT), dev(TMAP), dev(WINNERS), dev(np.ones(len(WINNERS) + 1, np.float32)), -0.1,
                        padding=1)
    with pytest.raises(ValueError, match="lower"):
        gpu.stdp_update(dev(WEIGHT), dev(TMAP), dev(WINNERS), 0.1, -0.1, lower=1.0, upper=0.0, padding=1)
    with pytest.raises(RuntimeError, match=NO_CUPY):  # valid: reaches the launch
        gpu.stdp_update(dev(WEIGHT), dev(TMAP), dev(WINNERS), 0.1, -0.1, padding=1)


def test_valid_gpu_only_calls_reach_the_launch(gpu):
    for call in (
        lambda: gpu.filter_bank(np.ones((1, 3, 3)), dev(IMAGES), (1, 1, 1, 1), "on"),
        lambda: gpu.correlate2d(dev(IMAGES), dev(WEIGHT), 1),
        lambda: gpu.infinite_timemap(dev(TMAP), T),
        lambda: gpu.pool_timemap(dev(TMAP), 2),  # no padding: T optional
        lambda: gpu.stdp(dev(fc_layer()), dev(FC_WAVE), dev(np.array([[1, 4, 2, 0, 0]], np.int32)), CONFIG),
    ):
        with pytest.raises(RuntimeError, match=NO_CUPY):
            call()
    # no padding: nothing to launch, the time map itself comes back (as on the CPU)
    t = dev(TMAP)
    assert gpu.pad_timemap(t, 0) is t and gpu.pad(t, 0) is t
