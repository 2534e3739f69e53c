"""workbench.neural I/O: load (Neo, pynwb fallback, raster .mat), save (NIX, NWB, pickle, NeoMatlab)."""

from __future__ import annotations

import datetime
import warnings

import neo
import numpy as np
import pytest
import quantities as pq
import scipy.io

import workbench
from workbench.neural import NWBLossWarning, load, read_nwb_with_pynwb, read_raster, save

IT = "zhang_desimone_7object_IT"
NWB = "nwb/A8604-211122.nwb"
IT_FIRST = ["bp1001spk_01A", "bp1001spk_02A", "bp1001spk_03A"]


def _it_files(data_file, names=IT_FIRST):
    return [data_file(f"{IT}/{n}_raster_data.mat") for n in names]


def _toy_block(rng, n_seg=2, n_units=2):
    """A small multi-segment block with annotations and array annotations everywhere."""
    block = neo.Block(name="toy", experimenter="me", session_start_time=datetime.datetime(2021, 5, 4, tzinfo=datetime.timezone.utc))
    for s in range(n_seg):
        seg = neo.Segment(name=f"seg{s}", condition=f"c{s}")
        for u in range(n_units):
            times = np.sort(rng.uniform(0, 2000, size=rng.integers(0, 30)))
            seg.spiketrains.append(neo.SpikeTrain(times * pq.ms, t_start=0 * pq.ms, t_stop=2000 * pq.ms, name=f"u{u}", channel=u, quality="good"))
        seg.epochs.append(
            neo.Epoch(
                times=np.array([100.0, 900.0]) * pq.ms,
                durations=np.array([500.0, 500.0]) * pq.ms,
                labels=np.array(["a", "b"]),
                name="stim",
                array_annotations={"stimulus_ID": np.array(["car", "kiwi"]), "position": np.array([1, 2])},
            )
        )
        seg.events.append(neo.Event(times=np.array([150.0, 950.0]) * pq.ms, labels=np.array(["x", "y"]), name="reward"))
        block.segments.append(seg)
    block.check_relationships()
    return block


def _spike_times(block):
    return [[np.asarray(st.rescale(pq.ms).magnitude) for st in seg.spiketrains] for seg in block.segments]


# ---------------------------------------------------------------- raster format


def test_raster_single_unit_matches_mat_file(data_file):
    path = _it_files(data_file)[0]
    mat = scipy.io.loadmat(str(path))
    raster = mat["raster_data"]
    block = load(path)
    assert len(block.segments) == 1
    seg = block.segments[0]
    (st,) = seg.spiketrains
    n_trials, n_bins = raster.shape
    # Reference: every count in bin (i, b) is a spike at i * n_bins + b + 0.5 ms.
    i, b = np.nonzero(raster)
    expected = np.sort(np.repeat(i * n_bins + b + 0.5, raster[i, b]))
    np.testing.assert_allclose(st.rescale(pq.ms).magnitude, expected)
    assert st.t_stop.rescale(pq.ms).magnitude == n_trials * n_bins
    assert st.name == "bp1001spk_01A"
    assert st.annotations["session_ID"] == 1001 and st.annotations["unit"] == "A"
    (ep,) = seg.epochs
    assert ep.name == "stimulus" and len(ep) == n_trials
    np.testing.assert_allclose(ep.times.rescale(pq.ms).magnitude, np.arange(n_trials) * n_bins + 500)
    ids = [str(np.ravel(v)[0]) for v in np.ravel(mat["raster_labels"]["stimulus_ID"][0, 0])]
    assert list(ep.array_annotations["stimulus_ID"]) == ids
    assert set(ep.array_annotations) >= {"stimulus_ID", "stimulus_position", "combined_ID_position", "trial"}


def test_raster_list_of_files_one_segment_each(data_file):
    block = read_raster(_it_files(data_file))
    assert [s.name for s in block.segments] == IT_FIRST
    assert all(len(s.spiketrains) == 1 and len(s.epochs) == 1 for s in block.segments)


def test_all_it_units(data_file):
    # One test on the whole set: 132 units, 7 objects x 3 positions, about 420 trials each.
    folder = data_file(IT)
    block = load(folder)
    assert len(block.segments) == 132
    objects, positions = set(), set()
    for seg in block.segments:
        ep = seg.epochs[0]
        assert 300 <= len(ep) <= 500
        objects |= set(ep.array_annotations["stimulus_ID"])
        positions |= set(ep.array_annotations["stimulus_position"])
        combos = set(zip(ep.array_annotations["stimulus_ID"], ep.array_annotations["stimulus_position"]))
        assert len(combos) == 21
    assert objects == {"car", "couch", "face", "flower", "guitar", "hand", "kiwi"}
    assert positions == {"upper", "middle", "lower"}


def test_raster_counts_above_one_and_custom_onset(tmp_path):
    raster = np.zeros((2, 4), dtype=np.uint8)
    raster[0, 1] = 3
    raster[1, 3] = 1
    labels = np.zeros((1, 1), dtype=[("stimulus_ID", "O")])
    labels["stimulus_ID"][0, 0] = np.array([[np.array(["a"]), np.array(["b"])]], dtype=object)
    site = np.zeros((1, 1), dtype=[("alignment_event_time", "O")])
    site["alignment_event_time"][0, 0] = np.array([[2]])
    path = tmp_path / "x_raster_data.mat"
    scipy.io.savemat(str(path), {"raster_data": raster, "raster_labels": labels, "raster_site_info": site})
    block = load(path)
    st = block.segments[0].spiketrains[0]
    np.testing.assert_allclose(st.magnitude, [1.5, 1.5, 1.5, 7.5])
    ep = block.segments[0].epochs[0]
    np.testing.assert_allclose(ep.times.magnitude, [1.0, 5.0])
    assert list(ep.labels) == ["a", "b"]


def test_raster_bad_file(tmp_path):
    path = tmp_path / "bad_raster_data.mat"
    scipy.io.savemat(str(path), {"raster_data": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="raster_labels"):
        load(path)
    with pytest.raises(FileNotFoundError):
        read_raster(tmp_path / "missing.mat")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no raster"):
        read_raster(empty)


# ---------------------------------------------------------------- NWB


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # from Neo's own reader on this old file
def test_third_party_nwb_through_pynwb(data_file):
    path = data_file(NWB)
    with pytest.raises(Exception):  # the reason this fallback exists
        neo.io.NWBIO(str(path), mode="r").read_all_blocks()
    block = load(path)
    assert block.annotations["reader"] == "pynwb"
    (seg,) = block.segments
    assert len(seg.spiketrains) == 3
    assert sum(len(st) for st in seg.spiketrains) == 21354
    assert [st.name for st in seg.spiketrains] == ["6", "191", "206"]
    for st in seg.spiketrains:
        assert {"id", "location", "group", "electrode_group"} <= set(st.annotations)
        assert st.annotations["electrode_group"] == "group0_psb"
        assert np.all(np.diff(st.magnitude) >= 0)
    (ep,) = seg.epochs
    assert ep.name == "epochs" and len(ep) == 1
    assert list(ep.labels) == ["wake"] and list(ep.array_annotations["tags"]) == ["wake"]
    assert abs(float(ep.durations[0].rescale(pq.s)) - 1087.5289) < 1e-3


def test_pynwb_written_file_with_trials_and_custom_table(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.epoch import TimeIntervals

    nwb = NWBFile(session_description="t", identifier="abc", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_unit_column("quality", "q")
    nwb.add_unit(spike_times=[0.1, 0.5, 2.0], quality="good")
    nwb.add_unit(spike_times=[], quality="bad")
    nwb.add_trial_column("stimulus", "s")
    nwb.add_trial(start_time=0.0, stop_time=1.0, stimulus="car")
    nwb.add_trial(start_time=1.0, stop_time=2.5, stimulus="kiwi")
    custom = TimeIntervals(name="flashes", description="custom")
    custom.add_column("color", "c")
    custom.add_row(start_time=0.2, stop_time=0.3, color="red")
    nwb.add_time_intervals(custom)
    path = tmp_path / "f.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    block = load(path)
    seg = block.segments[0]
    assert [len(st) for st in seg.spiketrains] == [3, 0]
    assert [st.annotations["quality"] for st in seg.spiketrains] == ["good", "bad"]
    epochs = {e.name: e for e in seg.epochs}
    assert set(epochs) == {"trials", "flashes"}
    assert list(epochs["trials"].array_annotations["stimulus"]) == ["car", "kiwi"]
    np.testing.assert_allclose(epochs["trials"].durations.rescale(pq.s).magnitude, [1.0, 1.5])
    assert list(epochs["flashes"].array_annotations["color"]) == ["red"]
    assert pynwb is not None and read_nwb_with_pynwb(path).segments[0].spiketrains[0].t_stop >= 2.5 * pq.s


# ---------------------------------------------------------------- round trips


def test_nix_round_trip_is_lossless(tmp_path, rng):
    block = _toy_block(rng)
    out = save(block, tmp_path / "x.nix")
    assert "nix_name" not in block.annotations  # the caller's block is not tagged
    back = load(out)
    assert [s.name for s in back.segments] == ["seg0", "seg1"]
    for a, b in zip(_spike_times(block), _spike_times(back)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y)
    st = back.segments[1].spiketrains[1]
    assert st.name == "u1" and st.annotations["channel"] == 1 and st.annotations["quality"] == "good"
    assert back.segments[0].annotations["condition"] == "c0"
    ep = back.segments[0].epochs[0]
    assert list(ep.array_annotations["stimulus_ID"]) == ["car", "kiwi"]
    assert list(ep.array_annotations["position"]) == [1, 2]
    assert back.segments[0].events[0].name == "reward"


def test_nwb_round_trip_warns_and_keeps_times_and_labels(tmp_path, rng):
    block = _toy_block(rng)
    names_before = [(e.name, p.name) for s in block.segments for e, p in zip(s.events, s.epochs)]
    with pytest.warns(NWBLossWarning, match="array annotations") as record:
        save(block, tmp_path / "x.nwb")
    assert issubclass(record[0].category, workbench.WorkbenchWarning)
    assert "spike-train annotations (channel, quality)" in str(record[0].message)
    # The block itself is untouched (Neo's writer renames events in place).
    assert [(e.name, p.name) for s in block.segments for e, p in zip(s.events, s.epochs)] == names_before
    back = load(tmp_path / "x.nwb")
    assert [s.name for s in back.segments] == ["seg0", "seg1"]
    for a, b in zip(_spike_times(block), _spike_times(back)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, atol=1e-9)
    seg = back.segments[1]
    assert [e.name for e in seg.epochs] == ["stim"] and [e.name for e in seg.events] == ["reward"]
    assert list(seg.epochs[0].labels) == ["a", "b"]
    assert list(seg.events[0].labels) == ["x", "y"]


def test_nwb_round_trip_of_it_units(tmp_path, data_file):
    block = read_raster(_it_files(data_file, IT_FIRST[:2]))
    with pytest.warns(NWBLossWarning, match="session_start_time"):
        save(block, tmp_path / "it.nwb")
    back = load(tmp_path / "it.nwb")
    assert [s.name for s in back.segments] == IT_FIRST[:2]
    for a, b in zip(_spike_times(block), _spike_times(back)):
        np.testing.assert_allclose(a[0], b[0], atol=1e-9)
    assert list(back.segments[0].epochs[0].labels) == list(block.segments[0].epochs[0].labels)


@pytest.mark.parametrize("suffix", [".pkl", ".mat"])
def test_other_writers_round_trip(tmp_path, rng, suffix):
    block = _toy_block(rng, n_seg=1)
    save(block, tmp_path / f"x{suffix}")
    back = load(tmp_path / f"x{suffix}")
    for a, b in zip(_spike_times(block), _spike_times(back)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y)
    assert back.segments[0].epochs[0].name == "stim"


def test_nix_round_trip_of_it_unit_keeps_labels(tmp_path, data_file):
    block = read_raster(_it_files(data_file, IT_FIRST[:1]))
    back = load(save(block, tmp_path / "it.nix"))
    a, b = block.segments[0].epochs[0], back.segments[0].epochs[0]
    for key in a.array_annotations:
        np.testing.assert_array_equal(a.array_annotations[key], b.array_annotations[key])
    assert back.segments[0].spiketrains[0].annotations["session_ID"] == 1001


# ---------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "nope.nwb")


def test_unknown_format_names_supported_ones(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"Supported formats: .*NixIO.*NWBIO"):
        load(path)


def test_garbage_nwb_is_a_value_error(tmp_path):
    path = tmp_path / "broken.nwb"
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="could not read NWB"):
        load(path)


def test_save_bad_arguments(tmp_path, rng):
    block = _toy_block(rng, n_seg=1)
    with pytest.raises(TypeError, match="block"):
        save("not a block", tmp_path / "x.nix")
    with pytest.raises(ValueError, match="cannot infer the format"):
        save(block, tmp_path / "x.abc")
    with pytest.raises(ValueError, match="format must be one of"):
        save(block, tmp_path / "x.nix", format="csv")
    with pytest.raises(FileNotFoundError, match="output folder"):
        save(block, tmp_path / "no" / "x.nix")
    save(block, tmp_path / "x.nix")
    with pytest.raises(FileExistsError):
        save(block, tmp_path / "x.nix", overwrite=False)


def test_nwb_without_losses_does_not_warn(tmp_path):
    block = neo.Block(name="b", session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    seg = neo.Segment(name="s")
    seg.spiketrains.append(neo.SpikeTrain([0.5, 1.0] * pq.s, t_stop=2 * pq.s, name="u"))
    block.segments.append(seg)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NWBLossWarning)
        save(block, tmp_path / "clean.nwb")
    back = load(tmp_path / "clean.nwb")
    np.testing.assert_allclose(back.segments[0].spiketrains[0].magnitude, [0.5, 1.0])
