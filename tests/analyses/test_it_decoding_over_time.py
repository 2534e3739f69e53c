"""`workbench reproduce it_decoding_over_time --quick`: figures, summary and key numbers.

Also checks the pipeline's own helpers (sliding windows, canvas, cross-position loop)
against plain NumPy references, since they are code written inside the pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
NAME = "it_decoding_over_time"
FIGURES = (
    "it_decoding_time_course",
    "it_temporal_generalization",
    "snn_decoding_time_course",
    "snn_temporal_generalization",
    "position_invariance_it_vs_snn",
    "decoding_time_course_it_vs_snn",
)


def _module():
    # Load through the CLI's loader so the "analyses" package resolves as in a real run.
    from workbench.cli._reproduce import pipelines_package

    pipelines_package()
    import importlib

    return importlib.import_module(f"analyses.{NAME}")


# --------------------------------------------------------------------------- helpers


def test_sliding_windows_match_numpy(rng):
    mod = _module()
    counts = rng.poisson(1.0, size=(6, 12)).astype(np.float64)
    t = -55.0 + 10.0 * np.arange(12)  # bin centres of 10 ms bins from -60 ms
    unit = xr.DataArray(counts, dims=("trial", "time"),
                        coords={"trial": np.arange(6), "time": t, "obj": ("trial", list("abcabc"))})
    (out,) = mod._sliding([unit], 5, 2, "obj")
    starts = np.arange(0, 12 - 5 + 1, 2)
    expected = np.stack([counts[:, s : s + 5].sum(axis=1) for s in starts], axis=1)
    np.testing.assert_array_equal(out.values, expected)
    # window [start edge, start edge + 50 ms]; its centre is 25 ms after the left edge
    np.testing.assert_allclose(out["time"].values, (t[starts] - 5.0) + 25.0)
    assert list(out["label"].values) == list("abcabc")
    # T=1-like edge: a window as wide as the data gives one window, the row sums
    (one,) = mod._sliding([unit], 12, 1, "obj")
    np.testing.assert_array_equal(one.values[:, 0], counts.sum(axis=1))


def test_window_counts_match_numpy(rng):
    mod = _module()
    counts = rng.poisson(2.0, size=(4, 10)).astype(np.float64)
    t = 5.0 + 10.0 * np.arange(10)  # 0..100 ms
    unit = xr.DataArray(counts, dims=("trial", "time"),
                        coords={"trial": np.arange(4), "time": t, "c": ("trial", list("xyxy"))})
    (out,) = mod._window_counts([unit], (20, 60), "c")
    np.testing.assert_array_equal(out.values[:, 0], counts[:, 2:6].sum(axis=1))  # centres 25..55
    assert out.sizes["time"] == 1


def test_canvas_positions():
    mod = _module()
    digits = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28) / 2000.0
    out = mod._canvas(digits, np.array([0, 2]))
    assert out.shape == (2, 1, 56, 28) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0, :28], digits[0])
    assert not out[0, 0, 28:].any()
    np.testing.assert_array_equal(out[1, 0, 28:], digits[1])
    assert not out[1, 0, :28].any()
    # all-zero input stays zero
    assert not mod._canvas(np.zeros((1, 28, 28), np.float32), np.array([1])).any()


def _reference_mcc(Xtr, ytr, Xte):
    # z-score with training statistics, class-mean templates, predict the max Pearson r
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    ztr, zte = (Xtr - mu) / sd, (Xte - mu) / sd
    classes = np.unique(ytr)
    templ = np.stack([ztr[ytr == c].mean(0) for c in classes])
    r = np.array([[np.corrcoef(x, m)[0, 1] for m in templ] for x in zte])
    return classes[np.argmax(r, axis=1)]


def test_cross_condition_matches_reference(rng):
    mod = _module()
    n_obj, n_pos, n_unit = 3, 2, 8
    codes = np.arange(n_obj * n_pos)
    obj_of, pos_of = codes // n_pos, codes % n_pos
    splits, ref = [], np.zeros((n_pos, n_pos))
    for _ in range(3):
        ctr = np.repeat(codes, 4)
        cte = np.repeat(codes, 2)
        Xtr = rng.normal(size=(ctr.size, n_unit, 1)) + obj_of[ctr][:, None, None]
        Xte = rng.normal(size=(cte.size, n_unit, 1)) + obj_of[cte][:, None, None]
        splits.append((Xtr, ctr, Xte, cte))
        for a in range(n_pos):
            tr = pos_of[ctr] == a
            for b in range(n_pos):
                te = pos_of[cte] == b
                pred = _reference_mcc(Xtr[tr, :, 0], obj_of[ctr[tr]], Xte[te, :, 0])
                ref[a, b] += np.mean(pred == obj_of[cte[te]]) / 3
    got = mod._cross_condition(iter(splits), obj_of, pos_of, n_pos)
    np.testing.assert_allclose(got, ref)


def test_cross_condition_position_specific_code_fails_to_generalise(rng):
    # A code that swaps object patterns between positions must decode within a position
    # and fail across: the loop really pairs training position a with test position b.
    mod = _module()
    codes = np.arange(4)  # 2 objects x 2 positions
    obj_of, pos_of = codes // 2, codes % 2
    patterns = np.array([[5.0, 0.0], [0.0, 5.0]])
    def make(c):
        o, p = obj_of[c], pos_of[c]
        return (patterns[o ^ p][:, :, None] + 0.1 * rng.normal(size=(c.size, 2, 1)))
    ctr, cte = np.repeat(codes, 5), np.repeat(codes, 3)
    got = mod._cross_condition(iter([(make(ctr), ctr, make(cte), cte)]), obj_of, pos_of, 2)
    np.testing.assert_allclose(np.diag(got), 1.0)
    np.testing.assert_allclose(got[0, 1], 0.0)
    np.testing.assert_allclose(got[1, 0], 0.0)


def test_split_combined_names():
    mod = _module()
    classes = np.array(["car_lower", "car_upper", "kiwi_middle"])
    obj, pos = mod._split_combined(classes, ("car", "kiwi"), mod.POSITIONS_IT)
    np.testing.assert_array_equal(obj, [0, 0, 1])
    np.testing.assert_array_equal(pos, [2, 0, 1])
    with pytest.raises(ValueError):
        mod._split_combined(np.array(["car_left"]), ("car",), mod.POSITIONS_IT)


def test_pipeline_declares_its_interface():
    mod = _module()
    assert isinstance(mod.TITLE, str) and mod.TITLE
    assert set(mod.DATASETS) == {"zhang_desimone_7object_IT", "mnist"}
    quick, full = mod._params(True), mod._params(False)
    assert set(quick) == set(full)
    assert quick["it_units"] < full["it_units"] and quick["it_resamples"] < full["it_resamples"]


# --------------------------------------------------------------------------- the quick run


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    mirror = Path(__import__("os").environ.get("WORKBENCH_MIRROR", REPO.parent / "shared" / "datasets"))
    for rel in ("zhang_desimone_7object_IT/bp1001spk_01A_raster_data.mat", "mnist/train-images-idx3-ubyte.gz",
                "mnist/t10k-images-idx3-ubyte.gz"):
        if not (mirror / rel).exists():
            pytest.skip(f"data set file missing: {mirror / rel} (set WORKBENCH_MIRROR to the data mirror)")
    from workbench.cli import main

    out = tmp_path_factory.mktemp("reproduce_it_decoding")
    code = main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"])
    return out, code


def test_quick_run_figures_and_summary(quick_run, mirror):
    out, code = quick_run
    assert code == 0, "a key number is out of its valid range"
    summary = (out / "summary.md").read_text()
    for stem in FIGURES:
        for ext in (".png", ".pdf"):
            path = out / f"{stem}{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
        assert f"{stem}.png" in summary
    assert "zhang_desimone_7object_IT" in summary and "mnist" in summary


def test_quick_run_key_numbers(quick_run, mirror):
    out, _ = quick_run
    numbers = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    expected = {"it_peak_accuracy", "it_peak_time_ms", "it_onset_ms", "it_same_position_accuracy",
                "it_cross_position_accuracy", "snn_peak_accuracy", "snn_same_position_accuracy",
                "snn_cross_position_accuracy"}
    assert set(numbers) == expected
    assert all(np.isfinite(v) for v in numbers.values())
    assert 0.3 <= numbers["it_peak_accuracy"] <= 1.0
    assert 0.0 <= numbers["it_onset_ms"] <= 300.0
    # IT decoding starts after stimulus onset and peaks after it starts
    assert numbers["it_onset_ms"] < numbers["it_peak_time_ms"]
    # IT generalises across positions well above chance (1/7), but less than within a position
    assert 1 / 7 + 0.05 < numbers["it_cross_position_accuracy"] < numbers["it_same_position_accuracy"]
    assert 0.3 <= numbers["snn_peak_accuracy"] <= 1.0


def test_quick_run_reuses_cache(quick_run, mirror, tmp_path):
    # A second run into the same folder reads every intermediate result from the cache
    # (no new cache file appears) and reports the same numbers.
    out, _ = quick_run
    from workbench.cli import main

    before = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    cache = out / ".cache" / "quick" / NAME
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 4 and all(f.endswith(".npz") for f in files)
    assert main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in cache.iterdir()) == files
    after = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    assert after == before
