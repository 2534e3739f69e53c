"""The shared validators of workbench.snn._checks, on NumPy arrays (no GPU needed).

They hold the input contract of both the CPU ops and the GPU ops; here they are checked
against the CPU core's own helpers (workbench._validation.check_array, the snn geometry
functions) and against plain NumPy references.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import snn
from workbench._validation import check_array
from workbench.snn import _checks as v
from workbench.snn import _dispatch


class FakeDeviceArray(np.ndarray):
    """Stands for cupy.ndarray (see test_gpu_validation.py)."""


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", (FakeDeviceArray,))


def _err(fn, *args, **kwargs):
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------- check_device_array
BAD_ARRAYS = [
    ([1.0, 2.0], {}),
    (np.zeros((2, 3)), {"ndim": 3}),
    (np.zeros((2, 3)), {"ndim": (1, 3)}),
    (np.zeros((2, 3), np.int64), {"dtypes": [np.int32]}),
    (np.zeros((2, 3), np.float16), {"dtypes": [np.float32, np.float64]}),
    (np.zeros((0, 3)), {"min_shape": (1, 1)}),
    (np.array([1.0, np.nan]), {"finite": True}),
    (np.array([1.0, np.inf]), {"finite": True}),
    (np.array([-np.inf, 0.0], np.float32), {"finite": True}),
]


@pytest.mark.parametrize(("x", "kwargs"), BAD_ARRAYS)
def test_same_errors_and_messages_as_check_array(x, kwargs):
    want = _err(check_array, x, "arg", **kwargs)
    got = _err(v.check_device_array, x, "arg", "cpu", **kwargs)
    assert type(got) is type(want) and str(got) == str(want)


def test_valid_arrays_come_back_unchanged_and_uncopied():
    x = np.arange(12.0).reshape(3, 4)[:, ::2]  # not contiguous: still no copy
    assert v.check_device_array(x, "x", ndim=2, dtypes=[np.float64], finite=True, min_shape=(1, 1)) is x
    e = np.zeros((0, 2), np.float32)
    assert v.check_device_array(e, "e", finite=True) is e  # empty: nothing to be non-finite
    i = np.array([1, 2], np.int32)
    assert v.check_device_array(i, "i", finite=True) is i  # finite applies to floats only


def test_device_of_arrays(fake_gpu):
    x = np.zeros(3)
    f = x.view(FakeDeviceArray)
    assert v.on_device(x, "cpu") and not v.on_device(x, "cuda")
    assert v.on_device(f, "cuda") and not v.on_device(f, "cpu")
    assert not v.on_device([0.0], "cpu") and not v.on_device(None, "cuda")
    with pytest.raises(TypeError, match=r"x must be a cupy\.ndarray, got ndarray"):
        v.check_device_array(x, "x", "cuda")
    with pytest.raises(TypeError, match=r"x must be a numpy\.ndarray, got FakeDeviceArray"):
        v.check_device_array(f, "x", "cpu")
    with pytest.raises(ValueError, match="device"):
        v.on_device(x, "tpu")


def test_without_cupy_nothing_is_a_gpu_array(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", ())
    assert not v.on_device(np.zeros(1).view(FakeDeviceArray), "cuda")


# ---------------------------------------------------------------- reductions
SPECIALS = st.sampled_from([0.0, -0.0, 1.0, -1e30, 3e38, np.nan, np.inf, -np.inf])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), SPECIALS), max_size=20),
       st.sampled_from([np.float32, np.float64]))
def test_all_finite_matches_numpy_on_both_paths(values, dtype):
    x = np.array(values, dtype=dtype)
    want = bool(np.isfinite(x).all())
    assert v.all_finite(x) is want  # NumPy path: min/max
    assert v.all_finite(x.view(FakeDeviceArray)) is want  # other arrays: ((x - x) == 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=20))
def test_value_range_is_min_max_as_python_ints(values):
    x = np.array(values, np.int32)
    lo, hi = v.value_range(x.view(FakeDeviceArray))
    assert (lo, hi) == (min(values), max(values)) and type(lo) is int and type(hi) is int


def test_check_times():
    t = np.array([[0, 3], [2, 1]], np.int32)
    v.check_times(t, "tmap", 3)  # T itself means "never fired": allowed
    v.check_times(t, "tmap", None)
    v.check_times(np.zeros((0, 2), np.int32), "tmap", 1)
    with pytest.raises(ValueError, match=r"tmap values must lie in \[0, T=2\].*got \[0, 3\]"):
        v.check_times(t, "tmap", 2)
    with pytest.raises(ValueError, match="non-negative"):
        v.check_times(t - 1, "tmap", 5)
    with pytest.raises(ValueError, match="pre values must be non-negative, got -1"):
        v.check_times(t - 1, "pre", None)


# ---------------------------------------------------------------- geometry
PAD_SPECS = [0, 2, (1, 2), [3, 0], (1, 2, 3, 4), (0, 0, 0, 1)]
BAD_PADS = [-1, (1, -1), (1, 2, 3), "1", 1.5, (1, 2, 3, -4), True]


@pytest.mark.parametrize("spec", PAD_SPECS)
def test_padding4_reads_specs_like_the_cpu_pool(spec):
    from workbench.snn._pool import _padding4

    assert v.padding4(spec) == _padding4(spec)


@pytest.mark.parametrize("spec", BAD_PADS)
def test_padding4_rejects_like_the_cpu_pool(spec):
    from workbench.snn._pool import _padding4

    assert type(_err(v.padding4, spec)) is type(_err(_padding4, spec))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3),
       st.integers(0, 2))
def test_conv_geometry_matches_conv_output_shape(h, w, kh, kw, s, p):
    wave = np.zeros((1, 2, 1, h, w), np.uint8)
    weight = np.ones((1, 1, kh, kw), np.float32)
    try:
        want = snn.conv_output_shape((h, w), (kh, kw), s, p)
    except ValueError:
        with pytest.raises(ValueError, match="kernel_size"):
            v.validate_conv(wave, weight, s, p)
        return
    assert v.validate_conv(wave, weight, s, p)[4] == want
    # and the reference: number of kernel placements in the padded input
    assert want == (len(range(0, h + 2 * p - kh + 1, s)), len(range(0, w + 2 * p - kw + 1, s)))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2))
def test_pool_geometry_matches_pool_output_shape(h, w, k, s, p):
    tmap = np.zeros((1, 1, h, w), np.int32)
    try:
        want = snn.pool_output_shape(h, w, k, s, p)
    except ValueError:
        with pytest.raises(ValueError, match="kernel"):
            v.validate_pool_timemap(tmap, k, s, p, 3)
        return
    _, kernel, stride, pads, out_hw, T = v.validate_pool_timemap(tmap, k, s, p, 3)
    assert (kernel, stride, pads, out_hw, T) == ((k, k), (s, s), (p,) * 4, want, 3)


def test_validators_return_normalised_scalars():
    wave = np.zeros((1, 3, 2, 5, 5), np.uint8)
    weight = np.ones((4, 2, 3, 3), np.float64)
    w2, wt2, stride, padding, out_hw = v.validate_conv(wave, weight, (1, 2), 1)
    assert w2 is wave and wt2 is weight and stride == (1, 2) and padding == (1, 1) and out_hw == (5, 3)
    tmap = np.zeros((1, 2, 5, 5), np.int32)
    out = v.validate_conv_fire_timemap(tmap, weight, np.float32(0.5), np.int64(3))
    assert out[2] == 0.5 and type(out[2]) is float and out[3] == 3 and type(out[3]) is int
    assert v.validate_fire(np.zeros((1, 2, 3), np.float32), 1, "rate")[1:] == (1.0, "rate")
    assert v.validate_pad(np.zeros((1, 1, 2, 2), np.uint8), (1, 2), 7.0)[1:] == ((1, 1, 2, 2), 7)
    # no padding: T is not needed (and not checked), as on the CPU
    assert v.validate_pad_timemap(tmap, 0)[2] is None


def test_validate_stdp_conv_and_fc():
    conv = SimpleNamespace(weight=np.ones((3, 2, 3, 3), np.float32), stride=(2, 1), padding=(1, 0, 2, 1))
    pre = np.zeros((2, 4, 2, 7, 6), np.uint8)
    winners = np.array([[1, 2, 3, 3, 4]], np.int32)  # (batch, feature, time, y, x)
    got = v.validate_stdp(conv, pre, winners)
    assert got.is_wave and got.t_limit == 4 and got.stride == (2, 1) and got.pads == (1, 2, 0, 1)
    assert got.n_features == 3 and got.weight is conv.weight and got.winners is winners
    # padded input 10 x 7, kernel 3 x 3, stride (2, 1): 4 rows and 5 columns of outputs
    with pytest.raises(ValueError, match=r"winners y values must lie in \[0, 4\)"):
        v.validate_stdp(conv, pre, winners + np.array([0, 0, 0, 1, 0], np.int32))
    with pytest.raises(ValueError, match=r"winners x values must lie in \[0, 5\)"):
        v.validate_stdp(conv, pre, winners + np.array([0, 0, 0, 0, 1], np.int32))
    with pytest.raises(ValueError, match="T=4"):
        v.validate_stdp(conv, pre, winners + np.array([0, 0, 1, 0, 0], np.int32))
    fc = SimpleNamespace(weight=np.ones((5, 12), np.float64))
    got = v.validate_stdp(fc, np.zeros((2, 3, 2, 2), np.int32), np.array([[0, 4, 1, 0, 0]], np.int32))
    assert not got.is_wave and got.t_limit is None and got.n_features == 5 and got.pads == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="12"):
        v.validate_stdp(fc, np.zeros((2, 5), np.int32), np.zeros((0, 5), np.int32))
    ro = np.ones((3, 2, 3, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        v.validate_stdp(SimpleNamespace(weight=ro), np.zeros((1, 2, 5, 5), np.int32), np.zeros((0, 5), np.int32))
