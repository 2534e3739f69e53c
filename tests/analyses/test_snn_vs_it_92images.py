"""The snn_vs_it_92images pipeline: a quick run end to end, its outputs, cache and RDM helper."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

NAME = "snn_vs_it_92images"
STEMS = ("snn_vs_it_92images_rdms", "snn_vs_it_92images_human_it", "snn_vs_it_92images_monkey_it",
         "snn_vs_it_92images_mds")
NEEDED = (
    "kriegeskorte2008_92images/Kriegeskorte_Neuron2008_supplementalData.mat",
    "kriegeskorte2008_92images/92_brainRDMs.mat",
    "caltech_face_motor/LearningSet",
)


def _module():
    from workbench.cli._reproduce import pipelines_package

    pipelines_package()
    import importlib

    return importlib.import_module(f"analyses.{NAME}")


@pytest.fixture(scope="module")
def quick_run(data_file, tmp_path_factory):
    for rel in NEEDED:
        data_file(rel)
    from workbench.cli import main

    out = tmp_path_factory.mktemp("reproduce")
    code = main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"])
    return out, code


def test_quick_run_writes_figures_and_numbers(quick_run):
    out, code = quick_run
    assert code == 0
    summary = (out / "summary.md").read_text()
    for stem in STEMS:
        for ext in (".png", ".pdf"):
            path = out / f"{stem}{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
        assert f"{stem}.png" in summary
    numbers = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    module = _module()
    assert "OUT OF RANGE" not in summary
    # Every model has a correlation with both brains; all finite and within [-1, 1].
    for model in ("pixels", "dog", "dog_spikes", "untrained_conv1", "conv1_latency", "conv2_latency",
                  "conv3_latency", "conv1_count", "conv2_count", "conv3_count"):
        for brain in ("human_it", "monkey_it"):
            v = numbers[f"{model}_vs_{brain}"]
            assert math.isfinite(v) and -1 <= v <= 1, (model, brain, v)
    # Facts of the data: Kriegeskorte et al. (2008) report 0.439 between monkey and human IT.
    assert numbers["monkey_vs_human_it"] == pytest.approx(0.439, abs=0.001)
    lo, hi = numbers["human_noise_ceiling_lower"], numbers["human_noise_ceiling_upper"]
    assert 0 < lo < hi < 1
    # Monkey IT is the reference: better than pixels against the human subjects.
    assert numbers["monkey_it_vs_human_subjects"] > numbers["pixels_vs_human_it"]
    assert numbers["best_layer"] in (1, 2, 3)
    assert module.TITLE in summary


def test_noise_ceiling_matches_leave_one_out_reference(quick_run):
    """Lower bound = mean Spearman of each subject with the mean of the others (rank-pooled)."""
    from scipy.stats import rankdata, spearmanr

    from workbench import datasets

    out, _ = quick_run
    numbers = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    subj = datasets.load_it_rdms()["human_it_subjects"].mean("session").values
    iu = np.triu_indices(92, 1)
    vec = subj[:, iu[0], iu[1]]
    ranks = np.array([rankdata(v) for v in vec])
    lower = np.mean([spearmanr(vec[i], np.delete(ranks, i, 0).mean(0))[0] for i in range(4)])
    upper = np.mean([spearmanr(vec[i], ranks.mean(0))[0] for i in range(4)])
    assert numbers["human_noise_ceiling_lower"] == pytest.approx(lower, abs=1e-9)
    assert numbers["human_noise_ceiling_upper"] == pytest.approx(upper, abs=1e-9)


def test_rerun_uses_cache_and_is_deterministic(quick_run):
    out, _ = quick_run
    from workbench.cli import main

    before = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    cache = out / ".cache" / "quick" / NAME
    files = sorted(p.name for p in cache.iterdir())
    assert any(f.startswith("weights-") for f in files) and any(f.startswith("eval_human_it-") for f in files)
    assert main(["reproduce", NAME, "--quick", "--out", str(out), "--no-progress"]) == 0
    after = json.loads((out / "summary.json").read_text())["numbers"][NAME]
    assert after == before
    assert sorted(p.name for p in cache.iterdir()) == files  # nothing recomputed under a new key


def _reference_rdm(x: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    d = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            a, b = x[i], x[j]
            if i == j:
                d[i, j] = 0.0
            elif a.std() == 0 or b.std() == 0:
                d[i, j] = 1.0
            else:
                d[i, j] = 1.0 - np.corrcoef(a, b)[0, 1]
    return d


@pytest.mark.parametrize("case", ["random", "constant_row", "two_images", "ties"])
def test_correlation_rdm_matches_reference(case, rng):
    module = _module()
    x = rng.normal(size=(6, 2, 3, 3))
    if case == "constant_row":
        x[2] = 0.0
        x[4] = 7.0
    elif case == "two_images":
        x = x[:2]
    elif case == "ties":
        x = rng.integers(0, 2, size=(5, 12)).astype(float)
        x[0] = [0] * 11 + [1]
        x[1] = x[0]
    d, n_const = module._correlation_rdm(x)
    ref = _reference_rdm(x.reshape(x.shape[0], -1))
    np.testing.assert_allclose(d, ref, atol=1e-12)
    assert n_const == (2 if case == "constant_row" else 0)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_rank_percentile_and_category_order():
    module = _module()
    d = np.array([[0, 3, 1], [3, 0, 2], [1, 2, 0]], dtype=float)
    p = module._rank_percentile(d)
    np.testing.assert_allclose(p, [[0, 100, 0], [100, 0, 50], [0, 50, 0]])
    cats = np.array(["artificial inanimate", "human face", "nonhuman face", "human face"])
    order, names, bounds = module._order(cats)
    assert list(order) == [1, 3, 2, 0]
    assert names == ["human face", "nonhuman face", "artificial inanimate"]
    assert list(bounds) == [2, 3]
    with pytest.raises(ValueError):
        module._order(np.array(["not a category"]))
