"""The snn_learning pipeline: a quick run end to end, its cache, and its two helpers.

The helpers (feature back-projection, first-spike raster) are compared with plain NumPy
references written here: the back-projection must equal the gradient of the linearised
network (front-end correlation, conv correlation, average pooling) at output (0, 0),
computed by feeding every pixel basis image through that network.
"""

from __future__ import annotations

import importlib
import json
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NAME = "snn_learning"
STEMS = ("snn_learning_accuracy", "snn_learning_features", "snn_learning_raster", "snn_learning_convergence")
NETWORKS = ("kheradpisheh2018_mnist", "mozafari2019_mnist", "mozafari2018_caltech", "mozafari2018_eth80")
NEEDED = (
    "mnist/train-images-idx3-ubyte.gz",
    "mnist/t10k-images-idx3-ubyte.gz",
    "caltech_face_motor/TrainingSet",
    "caltech_face_motor/TestingSet",
    "eth80_cup_dog",
)


def _module():
    from workbench.cli._reproduce import pipelines_package

    pipelines_package()
    return importlib.import_module(f"analyses.{NAME}")


# ----------------------------------------------------------------------------- quick run


@pytest.fixture(scope="module")
def quick_run(data_file, tmp_path_factory):
    for rel in NEEDED:
        data_file(rel)
    from workbench.cli import main

    out = tmp_path_factory.mktemp("reproduce")
    t0 = time.perf_counter()
    code = main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"])
    return out, code, time.perf_counter() - t0


@pytest.mark.slow  # ~70 s on 2 idle cores: four networks trained on small subsets
def test_quick_run_writes_figures_and_numbers(quick_run):
    out, code, _ = quick_run
    assert code == 0
    summary = (out / "summary.md").read_text()
    for stem in STEMS:
        for ext in (".png", ".pdf"):
            path = out / f"{stem}{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
        assert f"{stem}.png" in summary
    assert "OUT OF RANGE" not in summary
    numbers = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    for net in NETWORKS:
        acc, chance, secs = numbers[f"{net}_test_accuracy"], numbers[f"{net}_chance"], numbers[f"{net}_train_seconds"]
        assert math.isfinite(acc) and 0 <= acc <= 1, (net, acc)
        assert chance == pytest.approx(0.1 if "mnist" in net else 0.5)
        assert math.isfinite(secs) and secs > 0
    # The STDP + SVM network learns even on 200 images: far above chance (0.1).
    assert numbers["kheradpisheh2018_mnist_test_accuracy"] > 0.2
    # Data sets are named in the summary.
    for ds in ("mnist", "caltech_face_motor", "eth80_cup_dog"):
        assert ds in summary


@pytest.mark.slow
def test_rerun_uses_the_cache(quick_run):
    """A second run with the same output folder trains nothing: same numbers, same cache files."""
    out, code, _ = quick_run
    assert code == 0
    from workbench.cli import main

    cache = out / ".cache" / "quick" / NAME
    files_before = {p.name: p.stat().st_mtime_ns for p in cache.glob("*")}

    before = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    assert main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"]) == 0
    after = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    # Train seconds are read back from the cache, so they are identical, not re-measured;
    # no cache file was written again (a timing comparison would be flaky on a busy machine).
    assert after == before
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*")} == files_before
    assert len(list((out / ".cache" / "quick" / NAME).glob("net-*.npz"))) == len(NETWORKS)


# ----------------------------------------------------------------------------- back-projection


def _correlate_valid(x: np.ndarray, k: np.ndarray, stride=(1, 1)) -> np.ndarray:
    """Plain 'valid' cross-correlation of 2-D x with 2-D k, with a stride."""
    kh, kw = k.shape
    oh = (x.shape[0] - kh) // stride[0] + 1
    ow = (x.shape[1] - kw) // stride[1] + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            y, xx = i * stride[0], j * stride[1]
            out[i, j] = np.sum(x[y:y + kh, xx:xx + kw] * k)
    return out


def _linear_net_response(image: np.ndarray, net, upto: int) -> np.ndarray:
    """The linearised network (no rectification/threshold, average pooling) on one image.

    Returns each feature's value of layer ``upto`` at output position (0, 0).
    """
    from workbench.networks._layers import ConvLayer, DecisionLayer, PoolLayer

    bank = net.frontend._bank
    kern = bank.kernel
    channels = kern[0] - kern[1] if net.frontend.filter == "DoG" else kern
    if getattr(net.frontend, "peak_normalize", False):
        channels = np.stack([c / c.max() for c in channels])  # each DoG channel scaled to a peak of 1
    maps = [_correlate_valid(image, k) for k in channels]
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (ConvLayer, DecisionLayer)):
            w = layer.weight.astype(np.float64)
            stride = layer.conv.stride
            maps = [sum(_correlate_valid(maps[c], w[f, c], stride) for c in range(w.shape[1])) for f in range(w.shape[0])]
            if i == upto:
                return np.array([m[0, 0] for m in maps])
        elif isinstance(layer, PoolLayer):
            k = layer.kernel_size if isinstance(layer.kernel_size, tuple) else (layer.kernel_size,) * 2
            s = layer.stride if layer.stride is not None else k
            s = s if isinstance(s, tuple) else (s, s)
            maps = [_correlate_valid(m, np.full(k, 1.0 / (k[0] * k[1])), s) for m in maps]
    raise AssertionError(f"layer {upto} is not a trainable layer")


def _reference_patterns(net, layer: int, shape) -> np.ndarray:
    """Gradient of the linearised network's output at (0, 0) w.r.t. every pixel."""
    grad = np.zeros((net.layers[layer].weight.shape[0], *shape))
    for y in range(shape[0]):
        for x in range(shape[1]):
            basis = np.zeros(shape)
            basis[y, x] = 1.0
            grad[:, y, x] = _linear_net_response(basis, net, layer)
    return grad


def _randomize(net, rng):
    for layer in net.layers:
        if layer.trainable:
            layer.conv.weight = rng.random(layer.conv.weight.shape).astype(layer.conv.weight.dtype)
    return net


@pytest.mark.parametrize("peak_normalize", [False, True])
def test_backprojection_matches_linearised_network(rng, peak_normalize):
    from workbench import networks as nw

    mod = _module()
    net = nw.Network(
        nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0), (2.0, 1.0)], "pad": 1}, peak_normalize=peak_normalize),
        [nw.ConvLayer(2, 3, 3, threshold=1.0, padding=1), nw.PoolLayer(2, 2),
         nw.ConvLayer(3, 4, (2, 3), threshold=1.0), nw.GlobalPool()],
        T=5,
    )
    _randomize(net, rng)
    got = mod.backproject_features(net)
    assert sorted(got) == [0, 2]
    assert got[0].shape == (3, 5, 5)  # 3 (DoG) + 3 (conv) - 1
    assert got[2].shape == (4, 5 + 1 + 2, 5 + 1 + 4)  # pool 2/2 adds 1; a 2x3 kernel at stride 2 adds 2, 4
    for layer in (0, 2):
        np.testing.assert_allclose(got[layer], _reference_patterns(net, layer, got[layer].shape[1:]), atol=1e-10)


def test_backprojection_gabor_decision_and_strided_pool(rng):
    """Mozafari (2018)-like: Gabor front end, overlapping pool (3, stride 2), decision layer."""
    from workbench import networks as nw

    mod = _module()
    gabor = [(2.0, t, 0.5, 4.0, 0.0) for t in (0.0, 90.0)]
    net = nw.Network(
        nw.Frontend("Gabor", {"size": 1, "filters": gabor, "pad": 1}),
        [nw.PoolLayer(3, 2), nw.DecisionLayer(2, 4, 2, n_classes=2)],
        T=5,
    )
    _randomize(net, rng)
    got = mod.backproject_features(net)
    assert sorted(got) == [1]
    assert got[1].shape == (4, 3 + 2 + 2, 3 + 2 + 2)
    np.testing.assert_allclose(got[1], _reference_patterns(net, 1, got[1].shape[1:]), atol=1e-10)


def test_backprojection_edge_cases(rng):
    from workbench import networks as nw

    mod = _module()
    # 1x1 kernel, a single feature, all-zero weights: the pattern is the DoG kernel times w, i.e. 0.
    net = nw.Network(nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0)]}),
                     [nw.ConvLayer(1, 1, 1, threshold=1.0)], T=1)
    net.layers[0].conv.weight = np.zeros_like(net.layers[0].conv.weight)
    assert np.array_equal(mod.backproject_features(net)[0], np.zeros((1, 3, 3)))
    # Weight 1 on a 1x1 kernel reproduces the on-centre DoG itself (positive centre, sums to 0).
    net.layers[0].conv.weight = np.ones_like(net.layers[0].conv.weight)
    pattern = mod.backproject_features(net)[0][0]
    k = net.frontend._bank.kernel
    np.testing.assert_allclose(pattern, k[0, 0] - k[1, 0])
    assert pattern[1, 1] > 0 and abs(pattern.sum()) < 1e-9


def test_backprojection_rejects_unsupported_networks():
    from workbench import networks as nw

    mod = _module()
    net = nw.Network(nw.Frontend("none"), [nw.ConvLayer(1, 2, 3, threshold=1.0)], T=3)
    with pytest.raises(ValueError, match="front end"):
        mod.backproject_features(net)
    # Channel mismatch between the front end (2 DoG channels) and the layer (3 inputs).
    net = nw.Network(nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0), (2.0, 1.0)]}),
                     [nw.ConvLayer(3, 2, 3, threshold=1.0)], T=3)
    with pytest.raises(ValueError, match="channels"):
        mod.backproject_features(net)


# ----------------------------------------------------------------------------- raster


def _reference_raster(tmap: np.ndarray, T: int):
    times, units = [], []
    C, H, W = tmap.shape
    for c in range(C):
        for y in range(H):
            for x in range(W):
                if tmap[c, y, x] < T:
                    times.append(int(tmap[c, y, x]))
                    units.append(c * H * W + y * W + x)
    return np.array(times, dtype=np.int64), np.array(units, dtype=np.int64)


@pytest.mark.parametrize("shape,T", [((3, 4, 5), 6), ((1, 1, 1), 1), ((2, 1, 1), 3)])
def test_raster_matches_reference(rng, shape, T):
    mod = _module()
    tmap = rng.integers(0, T + 1, size=shape).astype(np.int32)
    got = mod.first_spike_raster(tmap, T)
    want = _reference_raster(tmap, T)
    for g, w in zip(got, want):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, w)


def test_raster_edge_cases():
    mod = _module()
    silent = np.full((2, 3, 3), 4, dtype=np.int32)
    times, units = mod.first_spike_raster(silent, 4)
    assert times.size == 0 and units.size == 0
    ties = np.zeros((2, 2, 2), dtype=np.uint8)  # everything fires at step 0 (uint8: cached maps)
    times, units = mod.first_spike_raster(ties, 1)
    np.testing.assert_array_equal(times, np.zeros(8))
    np.testing.assert_array_equal(units, np.arange(8))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_raster_property_counts_and_times(c, h, w, T, seed):
    mod = _module()
    tmap = np.random.default_rng(seed).integers(0, T + 1, size=(c, h, w)).astype(np.int32)
    times, units = mod.first_spike_raster(tmap, T)
    assert len(times) == int((tmap < T).sum())  # one spike per neuron that fired
    assert np.all(times < T) and np.all(np.diff(units) > 0)
    np.testing.assert_array_equal(tmap.reshape(-1)[units], times)


def test_raster_bad_input():
    mod = _module()
    with pytest.raises(ValueError, match="tmap"):
        mod.first_spike_raster(np.zeros((2, 2), dtype=np.int32), 3)
    with pytest.raises(TypeError, match="tmap"):
        mod.first_spike_raster(np.zeros((1, 2, 2)), 3)
    with pytest.raises(TypeError, match="tmap"):
        mod.first_spike_raster([[[0]]], 3)
    with pytest.raises(ValueError, match="T"):
        mod.first_spike_raster(np.zeros((1, 2, 2), dtype=np.int32), 0)
    with pytest.raises(ValueError, match="tmap"):
        mod.first_spike_raster(np.full((1, 2, 2), 5, dtype=np.int32), 3)
