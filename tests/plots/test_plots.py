"""Tests of workbench.plots: every figure renders to non-empty PNG and PDF, is labelled, and
rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import workbench.plots as wp


def _rdm(rng, cats=("b", "a", "b", "c", "a", "b")):
    n = len(cats)
    x = rng.random((n, n))
    d = (x + x.T) / 2
    np.fill_diagonal(d, 0)
    return xr.DataArray(d, dims=("condition", "condition_b"),
                        coords={"category": ("condition", list(cats)), "condition": [f"s{i}" for i in range(n)]},
                        attrs={"measure": "1 - Pearson r"})


def _check_written(fig, tmp_path, name):
    png, pdf = wp.save_figure(fig, tmp_path / "sub" / name, dpi=60)  # low dpi keeps the suite fast
    assert png.suffix == ".png" and pdf.suffix == ".pdf"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 500
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000


def _labels(fig):
    ax = fig.axes[0]
    return ax.get_xlabel(), ax.get_ylabel()


def test_rdm_reorders_by_category(rng, tmp_path):
    rdm = _rdm(rng)
    fig = wp.plot_rdm(rdm)
    assert isinstance(fig, Figure)
    shown = np.asarray(fig.axes[0].images[0].get_array())
    # reference: stable grouping, categories in order of first appearance (b, a, c)
    order = [0, 2, 5, 1, 4, 3]
    np.testing.assert_array_equal(shown, rdm.values[np.ix_(order, order)])
    # separators at the two category boundaries (between rows 2|3 and 4|5), both axes
    lines = fig.axes[0].get_lines()
    positions = sorted({float(np.asarray(line.get_ydata())[0]) for line in lines if np.ptp(line.get_ydata()) == 0})
    assert positions == [2.5, 4.5]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["b", "a", "c"]
    x, y = _labels(fig)
    assert "condition" in x and "condition" in y
    assert fig.axes[1].get_ylabel() == "1 - Pearson r"  # colour bar label from attrs
    _check_written(fig, tmp_path, "rdm")


def test_rdm_without_category_keeps_order(rng, tmp_path):
    rdm = _rdm(rng)
    fig = wp.plot_rdm(rdm, category=None)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), rdm.values)
    # 1 x 1 RDM edge case
    one = xr.DataArray(np.zeros((1, 1)), dims=("condition", "condition_b"), coords={"category": ("condition", ["a"])})
    fig1 = wp.plot_rdm(one)
    assert np.asarray(fig1.axes[0].images[0].get_array()).shape == (1, 1)
    _check_written(fig1, tmp_path, "rdm1")


def test_mds_colours_by_category_and_is_seeded(rng, tmp_path):
    # two well-separated clusters must land apart
    pts = np.vstack([rng.normal(0, 0.1, (5, 3)), rng.normal(5, 0.1, (5, 3))])
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    rdm = xr.DataArray(d, dims=("condition", "condition_b"), coords={"category": ("condition", ["x"] * 5 + ["y"] * 5)})
    fig = wp.plot_mds(rdm, seed=1)
    cols = fig.axes[0].collections
    assert len(cols) == 2
    assert to_hex(cols[0].get_facecolor()[0]) == wp.OKABE_ITO[0].lower()
    a, b = cols[0].get_offsets(), cols[1].get_offsets()
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > 5 * max(np.ptp(a, axis=0).max(), np.ptp(b, axis=0).max())
    again = wp.plot_mds(rdm, seed=1).axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(again, a)
    assert all(_labels(fig))
    _check_written(fig, tmp_path, "mds")


def test_model_comparison(tmp_path):
    scores = xr.DataArray([0.2, 0.45, 0.1], dims="model", coords={"model": ["V1", "IT", "pixels"]})
    ci = np.array([[0.1, 0.3], [0.35, 0.5], [0.0, 0.2]])
    fig = wp.plot_model_comparison(scores, ci=ci, noise_ceiling=(0.5, 0.6), pairs=[("V1", "IT"), ("IT", "pixels")])
    ax = fig.axes[0]
    np.testing.assert_allclose([p.get_height() for p in ax.patches if p.get_width() < 1][:3], [0.2, 0.45, 0.1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["V1", "IT", "pixels"]
    brackets = [line for line in ax.get_lines() if len(line.get_xdata()) == 4]
    assert len(brackets) == 2
    assert min(np.min(b.get_ydata()) for b in brackets) > 0.6  # above bars, CI and ceiling
    assert all(_labels(fig))
    _check_written(fig, tmp_path, "models")
    # the same from an RSA evaluation Dataset (a percentile CI may exclude the estimate)
    ds = xr.Dataset({
        "evaluation": scores,
        "ci_low": ("model", ci[:, 0] + [0.15, 0, 0]), "ci_high": ("model", ci[:, 1]),
        "noise_ceiling": ("bound", [0.5, 0.6]),
        "pairwise_reject": (("model", "model_b"), np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)),
    })
    fig2 = wp.plot_model_comparison(ds)
    assert len([line for line in fig2.axes[0].get_lines() if len(line.get_xdata()) == 4]) == 2
    segs = fig2.axes[0].collections[0].get_segments()  # the CI lines
    np.testing.assert_allclose([sg[:, 1] for sg in segs], np.stack([ds["ci_low"], ds["ci_high"]], 1))
    _check_written(fig2, tmp_path, "models_ds")
    # a single model, no extras
    _check_written(wp.plot_model_comparison(scores[:1]), tmp_path, "one_model")


def test_time_course(tmp_path):
    t = np.arange(0, 200, 10.0)
    acc = xr.DataArray(np.linspace(0.3, 0.9, t.size), dims="time",
                       coords={"time": ("time", t, {"units": "ms"})}, attrs={"chance": 1 / 3})
    sig = acc > 0.6
    fig = wp.plot_time_course(acc, ci=np.stack([acc.values - 0.05, acc.values + 0.05], 1), significant=sig)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (ms)" and "accuracy" in ax.get_ylabel()
    chance_lines = [line for line in ax.get_lines() if np.allclose(line.get_ydata(), 1 / 3)]
    assert chance_lines  # chance line drawn from attrs
    assert len(ax.collections) >= 1  # shaded CI
    bars = [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_linewidth() == 3]
    assert len(bars) == int(sig.sum())
    _check_written(fig, tmp_path, "time")
    # T = 1 edge case
    _check_written(wp.plot_time_course(acc[:1]), tmp_path, "time1")


def test_temporal_generalization_and_confusion(rng, tmp_path):
    tg = xr.DataArray(rng.random((4, 5)), dims=("train_time", "test_time"),
                      coords={"train_time": np.arange(4) * 10.0, "test_time": np.arange(5) * 10.0}, attrs={"chance": 0.5})
    fig = wp.plot_temporal_generalization(tg)
    assert fig.axes[0].get_xlabel() == "test time (ms)" and fig.axes[0].get_ylabel() == "train time (ms)"
    mesh = fig.axes[0].collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(4, 5), tg.values)
    assert mesh.norm.vcenter == 0.5  # colours centred on chance from attrs
    assert mesh.norm.vmin == pytest.approx(tg.values.min()) and mesh.norm.vmax == pytest.approx(tg.values.max())
    _check_written(wp.plot_temporal_generalization(tg[:1, :1]), tmp_path, "tg1")  # 1 x 1 edge case
    _check_written(fig, tmp_path, "tg")
    cm = xr.DataArray(np.array([[0.8, 0.2], [0.1, 0.9]]), dims=("true", "predicted"),
                      coords={"true": ["a", "b"], "predicted": ["a", "b"]})
    fig = wp.plot_confusion(cm)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), cm.values)
    assert _labels(fig) == ("predicted class", "true class")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0.10", "0.20", "0.80", "0.90"]
    _check_written(fig, tmp_path, "cm")


def test_raster(rng, tmp_path):
    trains = [np.sort(rng.random(5) * 100) for _ in range(6)]
    labels = np.array(["x", "y", "x", "y", "x", "y"])
    fig = wp.plot_raster(trains, labels=labels)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "trial (grouped by condition)"
    # rows grouped by condition: first three rows are the "x" trials 0, 2, 4
    rows = [np.asarray(c.get_positions()) for c in ax.collections]
    for row, src in zip(rows[:3], (0, 2, 4)):
        np.testing.assert_allclose(np.sort(row), trains[src])
    _check_written(fig, tmp_path, "raster")
    binary = xr.DataArray((rng.random((3, 50)) < 0.1).astype(np.uint8), dims=("trial", "time"),
                          coords={"time": ("time", np.arange(50) * 0.001, {"units": "s"})})
    fig = wp.plot_raster(binary)
    assert fig.axes[0].get_xlabel() == "time (s)"
    np.testing.assert_allclose(np.asarray(fig.axes[0].collections[1].get_positions()),
                               np.flatnonzero(binary.values[1]) * 0.001)
    empty = wp.plot_raster([np.array([], dtype=float)])  # a trial without spikes
    _check_written(empty, tmp_path, "raster_empty")


def test_bad_inputs(rng, tmp_path):
    rdm = _rdm(rng)
    with pytest.raises(TypeError, match="rdm"):
        wp.plot_rdm(rdm.values)
    with pytest.raises(ValueError, match="dims"):
        wp.plot_rdm(rdm.rename(condition_b="other"))
    with pytest.raises(ValueError, match="'kind'"):
        wp.plot_rdm(rdm, category="kind")
    with pytest.raises(ValueError, match="NaN"):
        wp.plot_rdm(rdm.where(rdm > 0.5))
    with pytest.raises(ValueError, match="negative"):
        wp.plot_mds(-rdm - 1)
    with pytest.raises(ValueError, match="3 conditions"):
        wp.plot_mds(rdm[:2, :2])
    scores = xr.DataArray([0.2, 0.4], dims="model", coords={"model": ["a", "b"]})
    with pytest.raises(ValueError, match="ci"):
        wp.plot_model_comparison(scores, ci=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lower bounds"):
        wp.plot_model_comparison(scores, ci=np.array([[0.3, 0.1], [0.3, 0.5]]))
    with pytest.raises(ValueError, match="evaluation"):
        wp.plot_model_comparison(xr.Dataset({"x": scores}))
    with pytest.raises(ValueError, match="unknown model"):
        wp.plot_model_comparison(scores, pairs=[("a", "z")])
    with pytest.raises(ValueError, match="noise_ceiling"):
        wp.plot_model_comparison(scores, noise_ceiling=(0.6, 0.5))
    acc = xr.DataArray(np.ones(3), dims="time")
    with pytest.raises(ValueError, match="dims"):
        wp.plot_time_course(acc.rename(time="t"))
    with pytest.raises(ValueError, match="significant"):
        wp.plot_time_course(acc, significant=xr.DataArray(np.ones(2, dtype=bool), dims="time"))
    with pytest.raises(ValueError, match="dims"):
        wp.plot_temporal_generalization(acc)
    with pytest.raises(ValueError, match="non-negative"):
        wp.plot_confusion(xr.DataArray(-np.ones((2, 2)), dims=("true", "predicted")))
    with pytest.raises(TypeError, match="spikes"):
        wp.plot_raster(np.ones(3))
    with pytest.raises(TypeError, match=r"spikes\[0\]"):
        wp.plot_raster([np.ones((2, 2))])
    with pytest.raises(TypeError, match="fig"):
        wp.save_figure("not a figure", tmp_path / "x")
    with pytest.raises(ValueError, match="dpi"):
        wp.save_figure(wp.plot_rdm(rdm), tmp_path / "x", dpi=0)
