"""workbench.neural.align / align_units against plain NumPy references."""

from __future__ import annotations

import neo
import numpy as np
import pytest
import quantities as pq
import scipy.io
from elephant.kernels import GaussianKernel
from elephant.statistics import instantaneous_rate
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.neural import align, align_units, read_raster, to_ms

IT = "zhang_desimone_7object_IT"


def ref_counts(spikes_ms, events_ms, w0, w1, bin_ms):
    """Obviously-correct reference: count spikes in [e + w0 + i*b, e + w0 + (i+1)*b)."""
    n = int(round((w1 - w0) / bin_ms))
    out = np.zeros((len(events_ms), n))
    for k, e in enumerate(events_ms):
        for i in range(n):
            lo, hi = e + w0 + i * bin_ms, e + w0 + (i + 1) * bin_ms
            out[k, i] = np.sum((spikes_ms >= lo) & (spikes_ms < hi))
    return out


def make_block(spikes_per_unit, events, *, t_stop=1000.0, labels=None, n_seg=1, epoch=True, unit_names=None):
    block = neo.Block(name="b")
    for s in range(n_seg):
        seg = neo.Segment(name=f"s{s}")
        for u, sp in enumerate(spikes_per_unit):
            name = unit_names[u] if unit_names else f"u{u}"
            seg.spiketrains.append(neo.SpikeTrain(np.sort(sp) * pq.ms, t_start=0 * pq.ms, t_stop=t_stop * pq.ms, name=name, channel=u, kind="sua"))
        lab = np.asarray(labels if labels is not None else [f"L{i % 3}" for i in range(len(events))])
        if epoch:
            seg.epochs.append(
                neo.Epoch(times=np.asarray(events, float) * pq.ms, durations=np.ones(len(events)) * pq.ms, labels=lab, name="stim", array_annotations={"obj": lab, "pos": np.arange(len(events))})
            )
        else:
            seg.events.append(neo.Event(times=np.asarray(events, float) * pq.ms, labels=lab, name="onset"))
        block.segments.append(seg)
    block.check_relationships()
    return block


def test_counts_match_reference_random(rng):
    spikes = [rng.uniform(0, 1000, size=n) for n in (50, 0, 200)]
    events = np.sort(rng.uniform(200, 800, size=7))
    block = make_block(spikes, events)
    da = align(block, "stim", (-100, 150) * pq.ms, 10 * pq.ms)
    assert da.dims == ("trial", "unit", "time") and da.shape == (7, 3, 25)
    for u in range(3):
        np.testing.assert_array_equal(da.values[:, u, :], ref_counts(np.sort(spikes[u]), events, -100, 150, 10))
    np.testing.assert_allclose(da.time.values, -100 + 10 * (np.arange(25) + 0.5))
    assert "bin centre" in da.attrs["time_reference"]
    assert list(da.unit.values) == ["u0", "u1", "u2"]
    assert list(da.coords["channel"].values) == [0, 1, 2]
    assert list(da.coords["kind"].values) == ["sua"] * 3
    assert list(da.coords["label"].values) == [f"L{i % 3}" for i in range(7)]
    assert list(da.coords["pos"].values) == list(range(7))
    np.testing.assert_allclose(da.coords["event_time_ms"].values, events)


def test_numbers_with_time_unit_and_seconds_equal_quantities(rng):
    spikes = [rng.uniform(0, 1000, size=80)]
    block = make_block(spikes, [300.0, 600.0])
    a = align(block, "stim", (-0.1, 0.2) * pq.s, 0.01 * pq.s)
    b = align(block, "stim", (-100, 200), 10, time_unit="ms")
    c = align(block, "stim", (-100 * pq.ms, 0.2 * pq.s), 10 * pq.ms)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.values, c.values)
    np.testing.assert_allclose(a.time.values, b.time.values)


def test_event_object_and_spike_on_bin_edges():
    # Spikes exactly on bin edges belong to the bin they start; the window is half-open.
    block = make_block([np.array([90.0, 100.0, 110.0, 119.999, 120.0, 130.0])], [100.0], epoch=False)
    da = align(block, "onset", (-10, 30) * pq.ms, 10 * pq.ms)
    np.testing.assert_array_equal(da.values[0, 0], [1, 1, 2, 1])
    assert "label" in da.coords


def test_edge_cases_single_bin_single_trial_empty_unit():
    block = make_block([np.array([], float)], [500.0])
    da = align(block, "stim", (0, 1) * pq.ms, 1 * pq.ms)
    assert da.shape == (1, 1, 1) and da.values.sum() == 0
    block = make_block([np.array([500.2])], [500.0])
    np.testing.assert_array_equal(align(block, "stim", (0, 1) * pq.ms, 1 * pq.ms).values, [[[1]]])


def test_multi_segment_shared_units_stack_trials(rng):
    spikes = [rng.uniform(0, 1000, size=40) for _ in range(2)]
    block = make_block(spikes, [200.0, 700.0], n_seg=3)
    da = align(block, "stim", (0, 100) * pq.ms, 50 * pq.ms)
    assert da.shape == (6, 2, 2)
    assert list(da.coords["segment"].values) == ["s0", "s0", "s1", "s1", "s2", "s2"]
    np.testing.assert_array_equal(da.values[:2], da.values[2:4])
    # Passing the epoch object selects its segment only.
    one = align(block, block.segments[1].epochs[0], (0, 100) * pq.ms, 50 * pq.ms)
    assert one.shape == (2, 2, 2) and set(one.coords["segment"].values) == {"s1"}
    np.testing.assert_array_equal(one.values, da.values[2:4])
    other = make_block(spikes, [200.0])
    with pytest.raises(ValueError, match="not in this block"):
        align(block, other.segments[0].epochs[0], (0, 100) * pq.ms, 50 * pq.ms)


@settings(max_examples=25, deadline=None)
@given(
    n_spikes=st.integers(0, 60),
    n_events=st.integers(1, 5),
    bin_ms=st.sampled_from([0.5, 1.0, 2.5, 7.0]),
    n_bins=st.integers(1, 12),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_counts_equal_reference(n_spikes, n_events, bin_ms, n_bins, seed):
    rng = np.random.default_rng(seed)
    spikes = np.sort(rng.uniform(0, 1000, size=n_spikes))
    events = np.sort(rng.uniform(200, 800, size=n_events))
    w0 = -bin_ms * (n_bins // 2)
    w1 = w0 + n_bins * bin_ms
    da = align(make_block([spikes], events), "stim", (w0, w1), bin_ms, time_unit="ms")
    np.testing.assert_array_equal(da.values[:, 0, :], ref_counts(spikes, events, w0, w1, bin_ms))


def test_rates_match_elephant_on_each_trial(rng):
    spikes = np.sort(rng.uniform(0, 2000, size=300))
    events = np.array([500.0, 1000.0, 1500.0])
    kernel = GaussianKernel(10 * pq.ms)
    block = make_block([spikes], events, t_stop=2000.0)
    da = align(block, "stim", (-100, 200) * pq.ms, 5 * pq.ms, kernel=kernel)
    assert da.attrs["kind"] == "rate" and da.shape == (3, 1, 60)
    pad = 100.0  # wider than the kernel support (5 sigma + a bin): no edge effect
    for k, e in enumerate(events):
        sel = spikes[(spikes >= e - 100 - pad) & (spikes < e + 200 + pad)] - (e - 100 - pad)
        st_ = neo.SpikeTrain(sel * pq.ms, t_start=0 * pq.ms, t_stop=(300 + 2 * pad) * pq.ms)
        ref = instantaneous_rate(st_, 5 * pq.ms, kernel=kernel, t_start=0 * pq.ms, t_stop=(300 + 2 * pad) * pq.ms).magnitude[:, 0]
        np.testing.assert_allclose(da.values[k, 0], ref[int(pad / 5) : int(pad / 5) + 60], rtol=1e-6, atol=1e-6)


def test_rates_integrate_to_counts_away_from_edges(rng):
    spikes = np.sort(rng.uniform(400, 600, size=100))
    block = make_block([spikes], [500.0], t_stop=1000.0)
    rate = align(block, "stim", (-300, 300) * pq.ms, 1 * pq.ms, kernel=GaussianKernel(5 * pq.ms))
    # spikes/s x 1 ms bins; the kernel is truncated at 5 sigma and sampled, hence the tolerance
    assert abs(rate.values.sum() * 1e-3 - 100) < 1e-3


def test_bad_inputs(rng):
    block = make_block([rng.uniform(0, 1000, size=10)], [500.0])
    with pytest.raises(TypeError, match="time_unit"):
        align(block, "stim", (0, 100), 10)
    with pytest.raises(ValueError, match="must be a time"):
        align(block, "stim", (0, 100) * pq.mV, 10 * pq.ms)
    with pytest.raises(ValueError, match="whole number of bins"):
        align(block, "stim", (0, 100) * pq.ms, 30 * pq.ms)
    with pytest.raises(ValueError, match="start must be < stop"):
        align(block, "stim", (100, 0) * pq.ms, 10 * pq.ms)
    with pytest.raises(ValueError, match="bin_size"):
        align(block, "stim", (0, 100) * pq.ms)
    with pytest.raises(ValueError, match="bin_size must be > 0"):
        align(block, "stim", (0, 100) * pq.ms, 0 * pq.ms)
    with pytest.raises(TypeError, match="kernel"):
        align(block, "stim", (0, 100) * pq.ms, 10 * pq.ms, kernel="gaussian")
    with pytest.raises(ValueError, match=r"no epoch or event named 'onset'.*'stim'"):
        align(block, "onset", (0, 100) * pq.ms, 10 * pq.ms)
    with pytest.raises(ValueError, match="outside the recorded trial"):
        align(block, "stim", (0, 600) * pq.ms, 10 * pq.ms)
    with pytest.raises(TypeError, match="neo.Block"):
        align("block", "stim", (0, 100) * pq.ms, 10 * pq.ms)
    with pytest.raises(ValueError, match="must be a time"):
        to_ms(5.0, "x", "parsec")
    with pytest.raises(ValueError, match="not a unit"):
        to_ms(5.0, "x", "fortnightz")
    empty = make_block([], [500.0])
    with pytest.raises(ValueError, match="no units"):
        align(empty, "stim", (0, 100) * pq.ms, 10 * pq.ms)


def test_units_not_recorded_together_point_to_align_units(rng):
    block = make_block([rng.uniform(0, 1000, size=10)], [500.0], n_seg=2)
    block.segments[1].spiketrains[0].name = "other"
    with pytest.raises(ValueError, match="align_units"):
        align(block, "stim", (0, 100) * pq.ms, 10 * pq.ms)
    per_unit = align_units(block, "stim", (0, 100) * pq.ms, 10 * pq.ms)
    assert [d.name for d in per_unit] == ["u0", "other"]
    assert all(d.dims == ("trial", "time") for d in per_unit)


def test_align_units_on_it_rasters_reproduce_the_mat_files(data_file):
    names = ["bp1001spk_01A", "bp1002spk_01A"]
    paths = [data_file(f"{IT}/{n}_raster_data.mat") for n in names]
    block = read_raster(paths)
    per_unit = align_units(block, "stimulus", (-500, 500) * pq.ms, 1 * pq.ms)
    for da, path in zip(per_unit, paths):
        mat = scipy.io.loadmat(str(path))
        np.testing.assert_array_equal(da.values, mat["raster_data"])
        ids = np.asarray([str(np.ravel(v)[0]) for v in np.ravel(mat["raster_labels"]["stimulus_ID"][0, 0])])
        np.testing.assert_array_equal(da.coords["stimulus_ID"].values, ids)
        assert da.coords["session_ID"].item() == int(da.name[2:6])
    np.testing.assert_allclose(per_unit[0].time.values[[0, 500, -1]], [-499.5, 0.5, 499.5])
    counts = align_units(block, "stimulus", (50, 350) * pq.ms, 300 * pq.ms)
    mat = scipy.io.loadmat(str(paths[0]))
    np.testing.assert_array_equal(counts[0].values[:, 0], mat["raster_data"][:, 550:850].sum(axis=1))
    with pytest.raises(ValueError, match=r"allowed \[-500, 500\]"):
        align_units(block, "stimulus", (-600, 0) * pq.ms, 10 * pq.ms)


@pytest.mark.parametrize("bin_ms", [0.3, 1 / 3, 1.0])
def test_rate_shapes_with_awkward_bins_and_causal_kernel(rng, bin_ms):
    from elephant.kernels import ExponentialKernel

    spikes = np.sort(rng.uniform(0, 2000, size=200))
    events = np.sort(rng.uniform(500, 1500, size=9))
    block = make_block([spikes], events, t_stop=2000.0)
    for kernel in (GaussianKernel(3 * pq.ms), ExponentialKernel(2 * pq.ms)):
        da = align(block, "stim", (-37 * bin_ms / 2, 37 * bin_ms / 2), bin_ms, time_unit="ms", kernel=kernel)
        assert da.shape == (9, 1, 37) and np.all(da.values >= 0)
