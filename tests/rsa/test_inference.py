"""workbench.rsa inference: noise ceiling, bootstrap evaluation, permutation, time, split-half."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from workbench.rsa import (
    compare,
    evaluate,
    noise_ceiling,
    permutation_test,
    rdm,
    rsa_over_time,
    spearman_brown,
    split_half_reliability,
    to_matrix,
    upper_tri,
)
from workbench.rsa._fastboot import fast_bootstrap
from workbench.rsa._inference import _bootstrap_from_indices


# ---------------------------------------------------------------- loop references
def ref_pool(rows, method):
    if method == "pearson":
        z = [(r - r.mean()) / r.std() for r in rows]
    elif method == "cosine":
        z = [r / np.sqrt(np.mean(r**2)) for r in rows]
    else:
        z = [sps.rankdata(r) for r in rows]
    return np.mean(z, axis=0)


def ref_ceiling(rows, groups, method):
    """Leave-one-group-out ceiling with explicit loops (each group counted once)."""
    lows, ups = [], []
    pooled_all = ref_pool(rows, method)
    for g in sorted(set(groups)):
        test = rows[groups == g][0]
        train = rows[groups != g] if len(set(groups)) > 1 else rows
        lows.append(compare(ref_pool(train, method), test, method)[0, 0])
        ups.append(compare(pooled_all, test, method)[0, 0])
    return np.mean(lows), np.mean(ups)


def ref_ceiling_grouped(rows, groups, method):
    """Leave one group out; a group's similarity is the mean over its RDMs."""
    lows, ups = [], []
    pooled_all = ref_pool(rows, method)
    for g in sorted(set(groups)):
        test = rows[groups == g]
        train = rows[groups != g]
        lows.append(np.mean([compare(ref_pool(train, method), t, method)[0, 0] for t in test]))
        ups.append(np.mean([compare(pooled_all, t, method)[0, 0] for t in test]))
    return np.mean(lows), np.mean(ups)


def ref_sample(models, data, method, rows, sel):
    """One bootstrap sample by building the resampled matrices explicitly (with NaNs)."""
    sel = np.sort(sel)
    if np.unique(sel).size < 3:
        return np.full(len(models), np.nan), (np.nan, np.nan)

    def resample(v):
        m = to_matrix(v)
        np.fill_diagonal(m, np.nan)
        return upper_tri(m[np.ix_(sel, sel)])

    x = np.array([resample(data[r]) for r in rows])
    keep = ~np.isnan(x[0])
    x = x[:, keep]
    mods = np.array([resample(m)[keep] for m in models])
    ev = np.array([np.mean([compare(m, xi, method)[0, 0] for xi in x]) for m in mods])
    return ev, ref_ceiling(x, np.asarray(rows), method)


@pytest.fixture
def rdms(rng):
    c = 9
    p = c * (c - 1) // 2
    base = rng.normal(size=p)
    data = base + rng.normal(size=(5, p))
    data[0] = np.round(data[0])  # ties
    models = np.stack([base + 2 * rng.normal(size=p), rng.normal(size=p), np.round(base)])
    return models, data


@pytest.mark.parametrize("method", ["pearson", "cosine", "spearman", "rho_a"])
def test_noise_ceiling_reference(rdms, method):
    _, data = rdms
    np.testing.assert_allclose(noise_ceiling(data, method), ref_ceiling(data, np.arange(5), method), atol=1e-12)
    groups = np.array(["s1", "s2", "s1", "s3", "s2"])  # sessions of three subjects
    np.testing.assert_allclose(noise_ceiling(data, method, groups=groups), ref_ceiling_grouped(data, groups, method), atol=1e-12)
    # one subject: lower = upper
    lo, up = noise_ceiling(data[:1], method)
    assert lo == up


@pytest.mark.parametrize("method", ["pearson", "cosine", "spearman", "rho_a"])
def test_bootstrap_fast_and_generic_match_reference(rdms, rng, method):
    models, data = rdms
    n_b = 12
    ri = rng.integers(0, 5, (n_b, 5))
    pi = rng.integers(0, 9, (n_b, 9))
    pi[0] = 4  # one condition only: invalid sample
    pi[1] = np.r_[[0] * 5, [1] * 4]  # two conditions: invalid
    pi[2] = np.r_[[0] * 3, [1] * 3, [2] * 3]  # three: valid, many duplicates
    ri[3] = 2  # a single subject drawn five times
    for r_idx, p_idx in ((ri, None), (None, pi), (ri, pi)):
        e_fast, c_fast = fast_bootstrap(models, data, method, r_idx, p_idx, chunk=5)
        e_gen, c_gen = _bootstrap_from_indices(models, data, method, r_idx, p_idx)
        for b in range(n_b):
            rows = r_idx[b] if r_idx is not None else np.arange(5)
            sel = p_idx[b] if p_idx is not None else np.arange(9)
            ev, ce = ref_sample(models, data, method, rows, sel)
            np.testing.assert_allclose(e_fast[b], ev, atol=1e-10)
            np.testing.assert_allclose(e_gen[b], ev, atol=1e-10)
            np.testing.assert_allclose(c_fast[b], ce, atol=1e-10)
            np.testing.assert_allclose(c_gen[b], ce, atol=1e-10)
    assert np.isnan(e_fast[:2]).all() and np.isfinite(e_fast[2:]).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 6), st.integers(1, 5), st.integers(0, 2**31 - 1), st.sampled_from(["pearson", "cosine", "spearman", "rho_a"]), st.booleans())
def test_fast_bootstrap_equals_generic(n_c, n_s, seed, method, grouped):
    """Invariant: the weighted closed form equals building every resampled RDM."""
    r = np.random.default_rng(seed)
    p = n_c * (n_c - 1) // 2
    data = np.round(r.normal(size=(n_s, p)) * 2)  # coarse values: many ties
    models = np.round(r.normal(size=(2, p)) * 2)
    groups = np.unique(r.integers(0, 3, n_s), return_inverse=True)[1] if grouped else None
    n_g = n_s if groups is None else groups.max() + 1
    ri = r.integers(0, n_g, (6, n_g))
    pi = r.integers(0, n_c, (6, n_c))
    e1, c1 = fast_bootstrap(models, data, method, ri, pi, groups, chunk=4)
    e2, c2 = _bootstrap_from_indices(models, data, method, ri, pi, groups)
    np.testing.assert_allclose(e1, e2, atol=1e-10)
    np.testing.assert_allclose(c1, c2, atol=1e-10)


def test_evaluate_fixed_and_structure(rdms):
    models, data = rdms
    ds = evaluate(models, data, "pearson", bootstrap=None)
    np.testing.assert_allclose(ds["subject_evaluation"].values, compare(models, data, "pearson"))
    np.testing.assert_allclose(ds["evaluation"].values, compare(models, data, "pearson").mean(1))
    np.testing.assert_allclose(ds["noise_ceiling"].values, noise_ceiling(data, "pearson"))
    # t-based interval and paired t-test over subjects
    se = ds["subject_evaluation"].values.std(1, ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(ds["ci_high"] - ds["ci_low"], 2 * sps.t.ppf(0.975, 4) * se)
    p01 = sps.ttest_rel(ds["subject_evaluation"].values[0], ds["subject_evaluation"].values[1]).pvalue
    assert ds["pairwise_p"].values[0, 1] == pytest.approx(p01)
    p = ds["pairwise_p"].values
    np.testing.assert_allclose(p, p.T)


def test_evaluate_bootstrap(rdms):
    models, data = rdms
    ds = evaluate(models, data, "spearman", bootstrap="both", n_bootstrap=60, seed=3)
    assert ds["bootstrap"].shape == (60, 3)
    ok = np.isfinite(ds["bootstrap"].values).all(1)
    good = ds["bootstrap"].values[ok]
    np.testing.assert_allclose(ds["ci_low"], np.quantile(good, 0.025, axis=0))
    np.testing.assert_allclose(ds["std"], good.std(0, ddof=1))
    # same seed, same result; bootstrap pair test formula (rsatoolbox bootstrap_pair_tests)
    ds2 = evaluate(models, data, "spearman", bootstrap="both", n_bootstrap=60, seed=3)
    np.testing.assert_array_equal(ds["bootstrap"].values, ds2["bootstrap"].values)
    n = good.shape[0]
    prop = np.sum(good[:, 0] < good[:, 1]) / (n - np.sum(good[:, 0] == good[:, 1]))
    want = (n - 1) / n * 2 * min(prop, 1 - prop) + 1 / n
    assert ds["pairwise_p"].values[0, 1] == pytest.approx(want)
    q = ds["pairwise_q"].values
    assert (q >= ds["pairwise_p"].values - 1e-12).all()
    # the generic path (kendall) runs too
    dk = evaluate(models[:2], data, "kendall_tau_a", bootstrap="conditions", n_bootstrap=5, seed=0)
    assert dk["bootstrap"].shape == (5, 2)


def test_evaluate_permutation(rdms):
    models, data = rdms
    ds = evaluate(models, data, "pearson", bootstrap=None, n_permutations=60, seed=2)
    p = ds["p_permutation"].values
    assert p.shape == (3,) and ((p > 0) & (p <= 1)).all()
    assert p[0] <= 2 / 61  # model built from the shared structure beats every relabelling
    # same relabellings as a manual loop over models with permutation_test's null construction
    from workbench.rsa._inference import _permuted_vectors

    perms = np.random.default_rng([2, 1]).permuted(np.tile(np.arange(9), (60, 1)), axis=1)
    null = compare(_permuted_vectors(models[1], perms), data, "pearson").mean(1)
    assert p[1] == pytest.approx((np.sum(null >= ds["evaluation"].values[1]) + 1) / 61)


def test_evaluate_labels_from_xarray(rdms):
    models, data = rdms
    m = xr.DataArray(to_matrix(models), dims=("model", "condition", "condition_b"), coords={"model": ["a", "b", "c"]})
    ds = evaluate(m, data, bootstrap="subjects", n_bootstrap=20, seed=0)
    assert list(ds["model"].values) == ["a", "b", "c"]
    # groups from a coordinate: sessions of subjects
    d = xr.DataArray(to_matrix(data), dims=("session", "condition", "condition_b"), coords={"subj": ("session", [0, 1, 0, 2, 1])})
    g = evaluate(m, d, bootstrap=None, groups="subj")
    np.testing.assert_allclose(g["noise_ceiling"].values, noise_ceiling(data, groups=[0, 1, 0, 2, 1]))
    per_subject = np.stack([compare(models, data[[0, 2]]).mean(1), compare(models, data[[1, 4]]).mean(1), compare(models, data[[3]]).mean(1)], 1)
    se = per_subject.std(1, ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(g["ci_high"] - g["ci_low"], 2 * sps.t.ppf(0.975, 2) * se)
    gb = evaluate(m, d, bootstrap="subjects", n_bootstrap=10, groups="subj", seed=1)
    assert gb["bootstrap"].shape == (10, 3)
    with pytest.raises(ValueError, match="groups"):
        evaluate(m, d, groups="subject_id")
    with pytest.raises(ValueError, match="groups"):
        noise_ceiling(data, groups=[0, 1])


def test_evaluate_bad_inputs(rdms):
    models, data = rdms
    with pytest.raises(ValueError, match="bootstrap"):
        evaluate(models, data, bootstrap="trials")
    with pytest.raises(ValueError, match="method"):
        evaluate(models, data, method="tau-a")
    with pytest.raises(ValueError, match="different numbers"):
        evaluate(models[:, :10], data)
    with pytest.raises(ValueError, match="n_bootstrap"):
        evaluate(models, data, n_bootstrap=1)
    with pytest.raises(ValueError, match="n_permutations"):
        evaluate(models, data, bootstrap=None, n_permutations=-1)
    with pytest.raises(ValueError, match="NaN"):
        evaluate(models, np.full_like(data, np.nan))


# ---------------------------------------------------------------- rsatoolbox parity
rsatoolbox = pytest.importorskip("rsatoolbox")
RSA_NAMES = {"pearson": "corr", "cosine": "cosine", "spearman": "spearman", "rho_a": "rho-a", "corr_cov": "corr_cov"}


@pytest.mark.parametrize("method", ["pearson", "cosine", "spearman", "rho_a"])
def test_noise_ceiling_matches_rsatoolbox(rdms, method):
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    _, data = rdms
    want = boot_noise_ceiling(RDMs(data), method=RSA_NAMES[method])
    np.testing.assert_allclose(noise_ceiling(data, method), want, atol=1e-10)


@pytest.mark.parametrize("kind", ["pattern", "rdm", "both"])
@pytest.mark.parametrize("method", ["pearson", "spearman", "corr_cov"])
def test_bootstrap_matches_rsatoolbox_replayed_draws(rdms, kind, method):
    from rsatoolbox.inference import (
        eval_bootstrap,
        eval_bootstrap_pattern,
        eval_bootstrap_rdm,
    )
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    models, data = rdms
    n_b, n_s, n_c = 15, 5, 9
    fixed = [ModelFixed(f"m{i}", RDMs(m[None])) for i, m in enumerate(models)]
    fn = {"pattern": eval_bootstrap_pattern, "rdm": eval_bootstrap_rdm, "both": eval_bootstrap}[kind]
    np.random.seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fn(fixed, RDMs(data), method=RSA_NAMES[method], N=n_b)
    # replay rsatoolbox's draws: per sample, subjects first, then conditions
    np.random.seed(11)
    ri, pi = [], []
    for _ in range(n_b):
        if kind in ("rdm", "both"):
            ri.append(np.random.randint(0, n_s, size=n_s))
        if kind in ("pattern", "both"):
            pi.append(np.random.randint(0, n_c, size=n_c))
    ri = np.array(ri) if ri else None
    pi = np.array(pi) if pi else None
    if method == "corr_cov":  # generic path (explicit resampled RDMs)
        ev, ce = _bootstrap_from_indices(models, data, method, ri, pi)
    else:
        ev, ce = fast_bootstrap(models, data, method, ri, pi)
    np.testing.assert_allclose(ev, res.evaluations, atol=1e-10)
    np.testing.assert_allclose(ce.T, res.noise_ceiling, atol=1e-10)


@pytest.mark.parametrize("kind", ["rdm", "both"])
def test_grouped_bootstrap_matches_rsatoolbox(rdms, kind):
    """Sessions grouped by subject: rsatoolbox's rdm_descriptor, replayed draws."""
    from rsatoolbox.inference import eval_bootstrap, eval_bootstrap_rdm
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    models, data = rdms
    subj = np.array([0, 1, 0, 2, 1])
    fixed = [ModelFixed(f"m{i}", RDMs(m[None])) for i, m in enumerate(models)]
    d = RDMs(data, rdm_descriptors={"subj": subj})
    n_b = 12
    np.random.seed(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "rdm":
            res = eval_bootstrap_rdm(fixed, d, method="corr", N=n_b, rdm_descriptor="subj")
        else:
            res = eval_bootstrap(fixed, d, method="spearman", N=n_b, rdm_descriptor="subj")
    np.random.seed(4)
    ri, pi = [], []
    for _ in range(n_b):
        ri.append(np.random.randint(0, 3, size=3))
        if kind == "both":
            pi.append(np.random.randint(0, 9, size=9))
    pi = np.array(pi) if pi else None
    ev, ce = fast_bootstrap(models, data, "pearson" if kind == "rdm" else "spearman", np.array(ri), pi, subj)
    np.testing.assert_allclose(ev, res.evaluations, atol=1e-10)
    np.testing.assert_allclose(ce.T, res.noise_ceiling, atol=1e-10)


@pytest.mark.data
def test_92_images_noise_ceiling_matches_rsatoolbox(data_file):
    import scipy.io as sio
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    b = sio.loadmat(str(data_file("kriegeskorte2008_92images/92_brainRDMs.mat")))["RDMs"]
    data = np.stack([upper_tri(np.asarray(b["RDM"][0, s, k], float)) for s in range(4) for k in range(2)])
    subj = np.repeat(np.arange(4), 2)  # 4 subjects x 2 sessions
    for method in ("pearson", "spearman"):
        np.testing.assert_allclose(noise_ceiling(data, method), boot_noise_ceiling(RDMs(data), method=RSA_NAMES[method]), atol=1e-10)
        want = boot_noise_ceiling(RDMs(data, rdm_descriptors={"subj": subj}), method=RSA_NAMES[method], rdm_descriptor="subj")
        np.testing.assert_allclose(noise_ceiling(data, method, groups=subj), want, atol=1e-10)


@pytest.mark.data
def test_92_images_bootstrap_matches_rsatoolbox(data_file):
    """8 model RDMs vs the 8 human-IT RDMs (4 subjects x 2 sessions), replayed draws."""
    import scipy.io as sio
    from rsatoolbox.inference import eval_bootstrap_pattern
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    b = sio.loadmat(str(data_file("kriegeskorte2008_92images/92_brainRDMs.mat")))["RDMs"]
    data = np.stack([upper_tri(np.asarray(b["RDM"][0, s, k], float)) for s in range(4) for k in range(2)])
    m = sio.loadmat(str(data_file("kriegeskorte2008_92images/92_modelRDMs.mat")))["Models"]
    models = np.stack([upper_tri(np.asarray(m["RDM"][0, i], float)) for i in range(8)])
    fixed = [ModelFixed(f"m{i}", RDMs(v[None])) for i, v in enumerate(models)]
    n_b = 5
    np.random.seed(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = eval_bootstrap_pattern(fixed, RDMs(data), method="spearman", N=n_b)
    np.random.seed(5)
    pi = np.array([np.random.randint(0, 92, size=92) for _ in range(n_b)])
    ev, ce = fast_bootstrap(models, data, "spearman", None, pi)
    np.testing.assert_allclose(ev, res.evaluations, atol=1e-10)
    np.testing.assert_allclose(ce.T, res.noise_ceiling, atol=1e-10)
    ds = evaluate(models, data, "spearman", bootstrap="conditions", n_bootstrap=50, seed=0)
    assert ds["noise_ceiling"].values[0] < ds["noise_ceiling"].values[1]


# ---------------------------------------------------------------- permutation / time / split-half
def test_permutation_test_reference(rng):
    c = 7
    model = rng.normal(size=c * (c - 1) // 2)
    data = model + 0.3 * rng.normal(size=(3, model.size))
    res = permutation_test(model, data, "pearson", n_perm=50, seed=1)
    perms = rng.permuted(np.tile(np.arange(c), (5, 1)), axis=1)
    # null values are model RDMs with conditions relabelled: check the construction directly
    m = to_matrix(model)
    for p in perms:
        pv = upper_tri(m[np.ix_(p, p)])
        assert np.isclose(np.sort(pv), np.sort(model)).all()
    null = res["null"].values
    assert res["observed"] == pytest.approx(compare(model, data, "pearson").mean())
    assert res["p"] == pytest.approx((np.sum(null >= res["observed"].values) + 1) / 51)
    assert res["p"] < 0.05
    # identity permutation gives back the observed value
    from workbench.rsa._inference import _permuted_vectors

    np.testing.assert_allclose(_permuted_vectors(model, np.arange(c)[None])[0], model)


def test_rsa_over_time_detects_planted_effect(rng):
    c, t = 8, 12
    p = c * (c - 1) // 2
    model = rng.normal(size=p)
    signal = np.zeros(t)
    signal[4:8] = 1.0
    data = signal[None, :, None] * model[None, None, :] + 0.2 * rng.normal(size=(4, t, p))
    res = rsa_over_time(model, data, "pearson", n_perm=99, seed=0)
    assert res["significant"].values[4:8].all()
    assert not res["significant"].values[:3].any()
    assert len(np.unique(res["cluster"].values[4:8])) == 1
    for tt in range(t):
        assert res["similarity"].values[tt] == pytest.approx(compare(model, data[:, tt], "pearson").mean())
    fdr = rsa_over_time(model, data, "pearson", n_perm=99, seed=0, correction="fdr")
    assert fdr["significant"].values[4:8].all()
    # T=1 and DataArray input
    da = xr.DataArray(to_matrix(data[:, :1]), dims=("subject", "time", "condition", "condition_b"))
    one = rsa_over_time(model, da, n_perm=9, seed=0, correction=None)
    assert one["p"].shape == (1,)


def test_split_half(rng):
    c, reps, p = 6, 6, 30
    labels = np.repeat(np.arange(c), reps)
    clean = np.repeat(rng.normal(size=(c, p)), reps, axis=0)
    res = split_half_reliability(clean, labels=labels, n_splits=5, seed=0, compare_method="pearson")
    np.testing.assert_allclose(res["r"].values, 1.0)  # noise-free: halves identical
    np.testing.assert_allclose(res["reliability"].values, 1.0)
    noisy = clean + 0.8 * rng.normal(size=clean.shape)
    res = split_half_reliability(noisy, labels=labels, n_splits=20, seed=0)
    np.testing.assert_allclose(res["r_sb"].values, 2 * res["r"].values / (1 + res["r"].values))
    assert 0 < res["r_mean"] < res["reliability"] < 1
    pure = rng.normal(size=clean.shape)
    assert abs(float(split_half_reliability(pure, labels=labels, n_splits=20, seed=0)["r_mean"])) < 0.3
    units = split_half_reliability(noisy, labels=labels, split="units", n_splits=5, seed=0)
    assert units["r"].shape == (5,)
    xt = np.stack([noisy, clean], axis=2)
    rt = split_half_reliability(xt, labels=labels, n_splits=3, seed=0)
    assert rt["r"].shape == (3, 2)
    assert spearman_brown(0.5) == pytest.approx(2 / 3)


def test_split_half_manual_split(rng):
    """One split reproduced by hand: the halves are disjoint and cover each condition equally."""
    c, reps = 4, 5  # odd count: one trial per condition dropped
    labels = np.repeat(np.arange(c), reps)
    x = rng.normal(size=(c * reps, 10))
    res = split_half_reliability(x, labels=labels, n_splits=1, seed=7, compare_method="pearson")
    r_gen = np.random.default_rng(7)
    keys = r_gen.random(labels.size)
    order = np.lexsort((keys, labels))
    a_idx = np.concatenate([order[k * reps : k * reps + 2] for k in range(c)])
    b_idx = np.concatenate([order[k * reps + 2 : k * reps + 4] for k in range(c)])
    want = compare(rdm(x[a_idx], labels=labels[a_idx]), rdm(x[b_idx], labels=labels[b_idx]), "pearson")[0, 0]
    assert res["r"].values[0] == pytest.approx(want)


def test_inference_bad_inputs(rng):
    v = rng.normal(size=(2, 10))
    with pytest.raises(ValueError, match="single RDM"):
        permutation_test(v, v)
    with pytest.raises(ValueError, match="n_perm"):
        permutation_test(v[0], v, n_perm=0)
    with pytest.raises(ValueError, match="correction"):
        rsa_over_time(v[0], v[None], correction="bonferroni")
    with pytest.raises(ValueError, match="time"):
        rsa_over_time(v[0], xr.DataArray(to_matrix(v), dims=("subject", "condition", "condition_b")))
    with pytest.raises(ValueError, match="2 trials"):
        split_half_reliability(rng.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="split"):
        split_half_reliability(rng.normal(size=(8, 3)), labels=np.repeat(np.arange(4), 2), split="halves")
    with pytest.raises(ValueError, match="rdm_method"):
        split_half_reliability(rng.normal(size=(8, 3)), labels=np.repeat(np.arange(4), 2), rdm_method="crossnobis")
