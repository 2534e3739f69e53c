"""Dispatch by array type, tested with a stand-in GPU array class (no CuPy needed)."""

import numpy as np
import pytest

import workbench
from workbench import snn
from workbench.snn import _dispatch


class FakeGPUArray:
    def __init__(self, data):
        self.data = np.asarray(data)

    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", (FakeGPUArray,))
    calls = []
    import workbench.cuda as cuda_mod

    def fake_double(x, factor=2):
        calls.append("gpu")
        return FakeGPUArray(x.data * factor)

    monkeypatch.setattr(cuda_mod, "double", fake_double, raising=False)

    @_dispatch.gpu_dispatch()
    def double(x, factor=2):
        calls.append("cpu")
        return x * factor

    return double, calls


def test_numpy_runs_on_cpu(fake_gpu):
    double, calls = fake_gpu
    np.testing.assert_array_equal(double(np.arange(3)), [0, 2, 4])
    assert calls == ["cpu"]


def test_gpu_arrays_run_on_gpu(fake_gpu):
    double, calls = fake_gpu
    out = double(FakeGPUArray([1, 2]), factor=3)
    assert isinstance(out, FakeGPUArray) and out.data.tolist() == [3, 6] and calls == ["gpu"]


def test_mixed_devices_is_a_clear_error(fake_gpu):
    double, _ = fake_gpu

    @_dispatch.gpu_dispatch("double")
    def add(a, b):
        return a + b

    with pytest.raises(TypeError, match=r"two devices: cpu \(NumPy: argument 1\) and cuda \(CuPy: argument 0\)"):
        add(FakeGPUArray([1]), np.ones(1))


def test_layer_weights_count_as_arrays(fake_gpu):
    class Layer:
        weight = FakeGPUArray([1.0])

    assert _dispatch._devices((Layer(), np.zeros(2)), {}) == {"cuda": ["argument 0"], "cpu": ["argument 1"]}


def test_without_cupy_the_cpu_function_is_returned_unchanged(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", ())

    def f(x):
        return x

    assert _dispatch.gpu_dispatch()(f) is f


def test_devices_always_lists_the_cpu():
    devs = workbench.devices()
    assert devs[0] == {"name": "cpu"}


def test_cpu_to_cpu_moves_are_no_ops():
    layer = snn.Conv(1, 2, 3, seed=0)
    w = layer.weight
    assert layer.to("cpu") is layer and layer.weight is w and layer.device == "cpu"
    sched = snn.LearningRateSchedule(snn.STDPConfig(0.004, -0.003))
    assert sched.to("cpu") is sched
    with pytest.raises(ValueError):
        sched.to("tpu")


@pytest.mark.parametrize(
    ("bank", "mode"),
    [
        (lambda: snn.DoG(2, [(1.0, 2.0)]), "on"),
        (lambda: snn.LoG(2, [1.0]), "onoff"),
        (lambda: snn.Gabor(2, [(2.0, 0.0, 0.5, 4.0, 0.0)]), "none"),
    ],
)
def test_filter_banks_route_gpu_arrays_with_their_rectification(monkeypatch, bank, mode):
    import workbench.cuda as cuda_mod

    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", (FakeGPUArray,))
    seen = []
    monkeypatch.setattr(cuda_mod, "filter_bank", lambda k, x, pad, m: seen.append((k.shape, m)) or "gpu")
    b = bank()
    assert b(FakeGPUArray(np.zeros((1, 1, 8, 8), np.float32))) == "gpu"
    assert seen and seen[0][1] == mode


DISPATCHED = [
    "rank_code_timemap", "rank_code", "gather", "scatter", "infinite", "conv", "conv_fire_timemap", "fc",
    "pad", "pad_timemap", "max_pool", "pool_timemap", "threshold", "quantize", "fire", "first_spike",
    "inhibit", "inhibit_timemap", "conv_wta", "conv_wta_timemap", "fc_wta", "stdp", "rstdp",
]


@pytest.mark.parametrize("name", DISPATCHED)
def test_gpu_functions_take_the_cpu_arguments(name):
    # A CuPy call is forwarded with the same positional and keyword arguments, so the two
    # implementations must agree on parameter names and order.
    import inspect

    import workbench.cuda as cuda_mod

    cpu = [p.name for p in inspect.signature(getattr(snn, name)).parameters.values()]
    gpu = [p.name for p in inspect.signature(getattr(cuda_mod, name)).parameters.values()]
    assert cpu == gpu
