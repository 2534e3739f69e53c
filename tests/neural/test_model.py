"""workbench.neural.from_model_responses / to_neo: model responses as the brain-side array."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.neural import align, from_model_responses, to_neo


def ref_wave_to_spikes(wave):
    """Reference: one spike at the first step where the cumulative wave is 1."""
    s, u, t = wave.shape
    out = np.zeros((s, u, t))
    for i in range(s):
        for j in range(u):
            on = np.flatnonzero(wave[i, j])
            if on.size:
                out[i, j, on[0]] = 1
    return out


def ref_latency_to_spikes(lat, n_steps):
    s, u = lat.shape
    out = np.zeros((s, u, n_steps))
    for i in range(s):
        for j in range(u):
            if lat[i, j] < n_steps:
                out[i, j, lat[i, j]] = 1
    return out


def random_wave(rng, s, u, t):
    lat = rng.integers(0, t + 1, size=(s, u))
    return (np.arange(t)[None, None, :] >= lat[..., None]).astype(np.uint8), lat.astype(np.int32)


def test_wave_matches_reference(rng):
    wave, lat = random_wave(rng, 4, 6, 9)
    da = from_model_responses(wave, "wave", stimulus_labels=list("abcd"), unit_names=[f"f{i}" for i in range(6)], step_ms=2.0, layer="conv1")
    assert da.dims == ("stimulus", "unit", "time") and da.shape == (4, 6, 9)
    np.testing.assert_array_equal(da.values, ref_wave_to_spikes(wave))
    np.testing.assert_allclose(da.time.values, (np.arange(9) + 0.5) * 2.0)
    assert list(da.coords["label"].values) == list("abcd")
    assert da.attrs["layer"] == "conv1" and da.name == "conv1"
    # The same spikes from the time map.
    np.testing.assert_array_equal(from_model_responses(lat, "latency", n_steps=9).values, da.values)


def test_latency_and_count_and_spikes(rng):
    lat = np.array([[0, 3], [2, 1]], dtype=np.int32)
    da = from_model_responses(lat, "latency", n_steps=3)
    np.testing.assert_array_equal(da.values, ref_latency_to_spikes(lat, 3))
    counts = rng.integers(0, 5, size=(3, 4))
    c = from_model_responses(counts, "count", n_steps=10, step_ms=0.5)
    assert c.shape == (3, 4, 1)
    np.testing.assert_array_equal(c.values[..., 0], counts)
    np.testing.assert_allclose(c.time.values, [2.5])
    sp = rng.integers(0, 3, size=(2, 2, 5)).astype(np.int64)
    np.testing.assert_array_equal(from_model_responses(sp, "spikes").values, sp)


def test_edge_cases_single_everything():
    da = from_model_responses(np.zeros((1, 1, 1), np.uint8), "wave")
    assert da.shape == (1, 1, 1) and da.values.sum() == 0
    da = from_model_responses(np.ones((1, 1, 1), np.uint8), "wave")
    assert da.values.item() == 1
    da = from_model_responses(np.array([[1]], np.int32), "latency", n_steps=1)  # T == never
    assert da.values.sum() == 0


def test_bad_inputs(rng):
    wave, lat = random_wave(rng, 2, 2, 3)
    with pytest.raises(TypeError, match="uint8"):
        from_model_responses(wave.astype(np.int32), "wave")
    with pytest.raises(ValueError, match="cumulative"):
        from_model_responses(np.array([[[1, 0]]], np.uint8), "wave")
    with pytest.raises(ValueError, match="cumulative"):
        from_model_responses(np.array([[[2, 1]]], np.uint8), "wave")  # a count cannot fall either
    with pytest.raises(ValueError, match="cumulative"):
        from_model_responses(np.array([[[255, 0]]], np.uint8), "wave")  # no uint8 wrap-around
    with pytest.raises(ValueError, match="3 or 5 dimensions"):
        from_model_responses(wave[0], "wave")
    with pytest.raises(ValueError, match="kind must be one of"):
        from_model_responses(wave, "rates")
    with pytest.raises(ValueError, match="n_steps is required"):
        from_model_responses(lat, "latency")
    with pytest.raises(ValueError, match="0..2"):
        from_model_responses(lat + 5, "latency", n_steps=2)
    with pytest.raises(TypeError, match="int32 or uint8"):
        from_model_responses(lat.astype(np.int64), "latency", n_steps=3)
    with pytest.raises(ValueError, match="non-negative"):
        from_model_responses(-np.ones((1, 1, 1)), "spikes")
    with pytest.raises(ValueError, match="NaN"):
        from_model_responses(np.full((1, 1, 1), np.nan), "spikes")
    with pytest.raises(ValueError, match="one entry per stimulus"):
        from_model_responses(wave, "wave", stimulus_labels=["a"])
    with pytest.raises(ValueError, match="unique"):
        from_model_responses(wave, "wave", unit_names=["x", "x"])
    with pytest.raises(ValueError, match="step_ms must be > 0"):
        from_model_responses(wave, "wave", step_ms=0.0)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        from_model_responses(wave.tolist(), "wave")


def test_to_neo_spike_times_and_epochs(rng):
    wave, _ = random_wave(rng, 3, 2, 4)
    da = from_model_responses(wave, "wave", stimulus_labels={"object": ["car", "face", "kiwi"]}, unit_names=["a", "b"], step_ms=5.0)
    block = to_neo(da)
    seg = block.segments[0]
    assert [st.name for st in seg.spiketrains] == ["a", "b"]
    for u, st_ in enumerate(seg.spiketrains):
        s_idx, t_idx = np.nonzero(da.values[:, u, :])
        np.testing.assert_allclose(st_.rescale(pq.ms).magnitude, np.sort((s_idx * 4 + t_idx) * 5.0))
        assert st_.t_stop.rescale(pq.ms).magnitude == 60.0
    ep = seg.epochs[0]
    assert ep.name == "stimulus" and list(ep.array_annotations["object"]) == ["car", "face", "kiwi"]
    np.testing.assert_allclose(ep.times.rescale(pq.ms).magnitude, [0, 20, 40])


@settings(max_examples=25, deadline=None)
@given(
    s=st.integers(1, 4),
    u=st.integers(1, 4),
    t=st.integers(1, 8),
    step=st.sampled_from([0.01, 0.1, 0.3, 0.7, 1.0, 1 / 3, 1.1, 7.0]),
    seed=st.integers(0, 10_000),
)
def test_property_to_neo_then_align_is_identity(s, u, t, step, seed):
    rng = np.random.default_rng(seed)
    spikes = rng.integers(0, 3, size=(s, u, t))
    da = from_model_responses(spikes, "spikes", step_ms=step)
    back = align(to_neo(da, step * pq.ms), "stimulus", (0, t * step), step, time_unit="ms")
    np.testing.assert_array_equal(back.values, da.values)
    np.testing.assert_allclose(back.time.values, da.time.values)


def test_to_neo_from_time_map_and_errors():
    lat = np.array([[0, 2]], dtype=np.int32)
    block = to_neo(lat, 1 * pq.ms, n_steps=2, unit_names=["x", "y"])
    assert [len(st) for st in block.segments[0].spiketrains] == [1, 0]
    with pytest.raises(TypeError, match="time_unit"):
        to_neo(lat, 1.0, n_steps=2)
    with pytest.raises(ValueError, match="whole spike counts"):
        to_neo(from_model_responses(np.full((1, 1, 1), 0.5), "spikes"))
    with pytest.raises(TypeError, match="DataArray"):
        to_neo([[1]], 1 * pq.ms)
    da = from_model_responses(np.zeros((1, 1, 1), np.uint8), "wave")
    with pytest.raises(ValueError, match="step_duration must be > 0"):
        to_neo(da, 0 * pq.ms)


def test_simulator_layouts_are_flattened_with_positions(rng):
    # Reference: wave (B, T, C, H, W) -> (B, C*H*W, T) in C order, then first-spike per unit.
    B, T, C, H, W = 3, 6, 2, 3, 2
    lat = rng.integers(0, T + 1, size=(B, C, H, W)).astype(np.int32)
    wave = (np.arange(T)[None, :, None, None, None] >= lat[:, None]).astype(np.uint8)
    da = from_model_responses(wave, "wave")
    flat = wave.reshape(B, T, -1).transpose(0, 2, 1)
    np.testing.assert_array_equal(da.values, ref_wave_to_spikes(flat))
    f, y, x = np.unravel_index(np.arange(C * H * W), (C, H, W))
    np.testing.assert_array_equal(da.coords["feature"].values, f)
    np.testing.assert_array_equal(da.coords["y"].values, y)
    np.testing.assert_array_equal(da.coords["x"].values, x)
    # The networks' export: uint8 latencies and spike counts (B, C, H, W).
    from_lat = from_model_responses(lat.astype(np.uint8), "latency", n_steps=T)
    np.testing.assert_array_equal(from_lat.values, da.values)
    counts = from_model_responses((lat < T).astype(np.uint8), "count", n_steps=T)
    np.testing.assert_array_equal(counts.values[..., 0], da.values.sum(axis=2))
    with pytest.raises(ValueError, match="3 or 5 dimensions"):
        from_model_responses(wave[0], "wave")
    with pytest.raises(TypeError, match="int32 or uint8"):
        from_model_responses(lat.astype(np.int16), "latency", n_steps=T)


def ref_count_wave_to_spikes(wave):
    """Reference: spikes at step t = count[t] - count[t - 1] (count[-1] = 0), unit by unit."""
    s, u, t = wave.shape
    out = np.zeros((s, u, t))
    for i in range(s):
        for j in range(u):
            prev = 0
            for k in range(t):
                out[i, j, k] = int(wave[i, j, k]) - prev
                prev = int(wave[i, j, k])
    return out


def test_rate_code_count_waves_are_spikes_per_step(rng):
    # cumulative counts, several spikes per step allowed, up to the uint8 maximum
    per_step = rng.integers(0, 3, size=(3, 4, 7))
    wave = np.cumsum(per_step, axis=2).astype(np.uint8)
    assert wave.max() > 1  # a count wave, not a 0/1 one
    da = from_model_responses(wave, "wave", step_ms=2.0)
    np.testing.assert_array_equal(da.values, ref_count_wave_to_spikes(wave))
    np.testing.assert_array_equal(da.values, per_step)
    assert da.dtype == np.float64 and da.attrs["model_kind"] == "wave"
    # edge cases: one step that already holds a count, the full uint8 range, all zero
    assert from_model_responses(np.array([[[2, 2]]], np.uint8), "wave").values.tolist() == [[[2.0, 0.0]]]
    assert from_model_responses(np.array([[[0, 255]]], np.uint8), "wave").values.tolist() == [[[0.0, 255.0]]]
    assert from_model_responses(np.zeros((1, 1, 1), np.uint8), "wave").values.sum() == 0


def test_simulator_rate_code_wave(rng):
    # what workbench.snn.rate_code produces (B, T, C, H, W): cumulative counts per neuron
    from workbench import snn

    images = rng.random((2, 1, 4, 5)).astype(np.float32)
    wave = snn.rate_code(images, 30, seed=3)
    assert wave.max() > 1
    da = from_model_responses(wave, "wave", layer="input")
    flat = wave.reshape(2, 30, -1).transpose(0, 2, 1)
    np.testing.assert_array_equal(da.values, ref_count_wave_to_spikes(flat))
    np.testing.assert_array_equal(da.values.sum(axis=2), flat[..., -1])  # total = final count
    assert set(np.unique(da.values)) <= {0.0, 1.0}  # rate_code: at most one spike per step
    assert da.coords["feature"].values.tolist() == [0] * 20


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=12), st.integers(1, 3))
def test_property_count_wave_round_trip(values, s):
    # any non-decreasing uint8 sequence is a valid wave; the cumulative sum of the spikes
    # gives it back
    wave = np.tile(np.sort(np.array(values, np.uint8)), (s, 1, 1))
    da = from_model_responses(wave, "wave")
    assert (da.values >= 0).all()
    np.testing.assert_array_equal(np.cumsum(da.values, axis=2), wave)
