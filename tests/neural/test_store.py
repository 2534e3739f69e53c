"""workbench.neural.save_responses / load_responses: lossless netCDF round trips."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
import quantities as pq
import xarray as xr

from workbench.neural import from_model_responses, load_responses, save_responses


def responses(rng, dtype=np.float64):
    data = rng.poisson(2.0, size=(4, 3, 5)).astype(dtype)
    return xr.DataArray(
        data,
        dims=("trial", "unit", "time"),
        coords={
            "trial": np.arange(4),
            "unit": np.array(["u0", "unit_1", "ü2"]),  # <U, with non-ASCII
            "time": (np.arange(5) + 0.5) * 10.0,
            "label": ("trial", np.array(["car", "kiwi", "car", "face"])),
            "mixed": ("trial", np.array([1, "x", None, 2.5], dtype=object)),
            "strings_as_object": ("unit", np.array(["a", "bb", "ccc"], dtype=object)),
            "flag": ("unit", np.array([True, False, True])),
            "session_ID": ("unit", np.array([1001, 1001, 1002])),
        },
        name="counts",
        attrs={
            "event": "stimulus",
            "window_ms": [-100.0, 400.0],
            "bin_size_ms": 10.0,
            "ok": True,
            "nothing": None,
            "nested": {"kernel": {"sigma_ms": 20.0}, "names": ["a", "b"]},
            "when": datetime.datetime(2021, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc),
            "day": datetime.date(2020, 1, 2),
            "array": np.arange(6).reshape(2, 3),
            "pair": (1, "two"),
            "empty": [],
        },
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8])
def test_round_trip_is_identical(tmp_path, rng, dtype):
    da = responses(rng, dtype)
    path = save_responses(da, tmp_path / "r.nc")
    back = load_responses(path)
    xr.testing.assert_identical(back, da)
    assert back.dtype == da.dtype
    assert back.coords["unit"].dtype == da.coords["unit"].dtype
    assert back.coords["strings_as_object"].dtype == object
    assert list(back.coords["mixed"].values) == [1, "x", None, 2.5]
    assert back.attrs["when"] == da.attrs["when"] and back.attrs["pair"] == (1, "two")
    np.testing.assert_array_equal(back.attrs["array"], da.attrs["array"])
    # Plain attributes stay readable by other netCDF tools.
    raw = xr.load_dataarray(path, engine="h5netcdf")
    assert raw.attrs["event"] == "stimulus" and list(raw.attrs["window_ms"]) == [-100.0, 400.0]


def test_round_trip_of_model_responses_and_edge_sizes(tmp_path):
    da = from_model_responses(np.ones((1, 1, 1), np.uint8), "wave", stimulus_labels=["only"])
    back = load_responses(save_responses(da, tmp_path / "m.nc"))
    xr.testing.assert_identical(back, da)
    unnamed = xr.DataArray(np.zeros((1, 1)), dims=("trial", "time"))
    xr.testing.assert_identical(load_responses(save_responses(unnamed, tmp_path / "u.nc")), unnamed)


def test_bad_inputs(tmp_path, rng):
    with pytest.raises(TypeError, match="DataArray"):
        save_responses(np.zeros(3), tmp_path / "x.nc")
    with pytest.raises(TypeError, match="numbers"):
        save_responses(xr.DataArray(np.array(["a"], dtype=object)), tmp_path / "x.nc")
    with pytest.raises(FileNotFoundError, match="output folder"):
        save_responses(responses(rng), tmp_path / "missing" / "x.nc")
    bad = responses(rng)
    bad.attrs["unit"] = 3 * pq.ms  # not representable
    with pytest.raises(TypeError, match="attribute 'unit'"):
        save_responses(bad, tmp_path / "x.nc")
    with pytest.raises(FileNotFoundError):
        load_responses(tmp_path / "nope.nc")
    (tmp_path / "junk.nc").write_bytes(b"junk")
    with pytest.raises(ValueError, match="could not read"):
        load_responses(tmp_path / "junk.nc")
