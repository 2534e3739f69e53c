"""workbench.rsa.compare against loop references, rsatoolbox 0.3.2 and the 92-images data."""

import math
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from workbench.rsa import COMPARE_METHODS, compare, rdm, to_matrix


RSA_NAMES = {
    "pearson": "corr",
    "spearman": "spearman",
    "kendall_tau_a": "tau-a",
    "kendall_tau_b": "tau-b",
    "rho_a": "rho-a",
    "cosine": "cosine",
    "corr_cov": "corr_cov",
    "cosine_cov": "cosine_cov",
}


# ---------------------------------------------------------------- loop references
def ranks(v):
    """Average ranks (1-based), by counting."""
    return np.array([np.sum(v < x) + (np.sum(v == x) + 1) / 2 for x in v])


def ref_one(a, b, method):
    if method == "pearson":
        return np.corrcoef(a, b)[0, 1]
    if method == "cosine":
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    if method == "spearman":
        return np.corrcoef(ranks(a), ranks(b))[0, 1]
    if method == "rho_a":
        n = a.size
        ra, rb = ranks(a), ranks(b)
        return 12 * np.sum((ra - ra.mean()) * (rb - rb.mean())) / (n**3 - n)
    if method == "kendall_tau_a":
        n = a.size
        s = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j]) for i in range(n) for j in range(i + 1, n))
        return s / (n * (n - 1) / 2)
    if method == "kendall_tau_b":
        # (C - D) / sqrt(untied pairs in a * untied pairs in b), by counting pairs
        n = a.size
        pairs = [(np.sign(a[i] - a[j]), np.sign(b[i] - b[j])) for i in range(n) for j in range(i + 1, n)]
        s = sum(x * y for x, y in pairs)
        untied_a = sum(x != 0 for x, _ in pairs)
        untied_b = sum(y != 0 for _, y in pairs)
        return s / np.sqrt(untied_a * untied_b)
    # whitened measures: Frobenius cosine of double-centred -D/2 (Diedrichsen et al. 2021)
    if method == "corr_cov":
        a, b = a - a.mean(), b - b.mean()
    ga, gb = [double_centre(to_matrix(v)) for v in (a, b)]
    return np.sum(ga * gb) / np.sqrt(np.sum(ga * ga) * np.sum(gb * gb))


def double_centre(d):
    n = d.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return h @ (-d / 2) @ h


@pytest.fixture
def vecs(rng):
    a = rng.uniform(size=(3, 28))
    b = rng.uniform(size=(2, 28))
    b[1] = np.round(b[1] * 3)  # ties
    return a, b


@pytest.mark.parametrize("method", COMPARE_METHODS)
def test_compare_matches_loop_reference(vecs, method):
    a, b = vecs
    got = compare(a, b, method)
    want = np.array([[ref_one(x, y, method) for y in b] for x in a])
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("method", COMPARE_METHODS)
def test_compare_input_forms_agree(vecs, method):
    a, b = vecs
    base = compare(a, b, method)
    np.testing.assert_allclose(compare(to_matrix(a), to_matrix(b), method), base)
    np.testing.assert_allclose(compare(to_matrix(a[0]), b, method), base[:1])
    np.testing.assert_allclose(compare(a[0], b[1], method), base[:1, 1:])
    da = xr.DataArray(to_matrix(a), dims=("model", "condition", "condition_b"), coords={"condition": np.arange(8), "condition_b": np.arange(8)})
    np.testing.assert_allclose(compare(da, b, method), base)


def test_compare_edge_cases():
    a = np.array([1.0, 2.0, 3.0])  # 3 conditions, 3 pairs
    assert compare(a, a, "pearson")[0, 0] == pytest.approx(1.0)
    assert compare(a, -a, "spearman")[0, 0] == pytest.approx(-1.0)
    assert compare(a, -a, "kendall_tau_a")[0, 0] == pytest.approx(-1.0)
    assert compare(a, -a, "kendall_tau_b")[0, 0] == pytest.approx(-1.0)
    const = np.ones(3)
    for m in ("pearson", "spearman", "kendall_tau_a", "kendall_tau_b", "rho_a"):
        assert compare(a, const, m)[0, 0] == 0.0  # constant RDM: similarity 0 (rsatoolbox convention)
    assert compare(np.zeros(3), a, "cosine")[0, 0] == 0.0
    # all ties in both: tau-a is 1 only for fully concordant untied pairs
    assert compare(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 2.0]), "kendall_tau_a")[0, 0] == pytest.approx(1 / 3)
    # tau-b: the one pair untied in both is concordant, 2 pairs untied in each: 1 / sqrt(2 * 2)
    assert compare(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 2.0]), "kendall_tau_b")[0, 0] == pytest.approx(1 / 2)
    # tau-b reaches +-1 with ties (same tie pattern), tau-a does not
    t = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 4.0])
    assert compare(t, 2 * t, "kendall_tau_b")[0, 0] == pytest.approx(1.0)
    assert compare(t, 2 * t, "kendall_tau_a")[0, 0] < 1.0


@pytest.mark.parametrize("ties", [0, 3, 10])
def test_kendall_tau_b_matches_scipy(rng, ties):
    """Random and tied RDMs (ties: how many distinct values the rounded rows keep), many-vs-many."""
    a = rng.normal(size=(4, 66))
    b = rng.normal(size=(3, 66))
    if ties:
        a[1:] = np.round(a[1:] * ties / 4)
        b[:2] = np.round(b[:2] * ties / 4)
    want = np.array([[sps.kendalltau(x, y, variant="b").statistic for y in b] for x in a])
    np.testing.assert_allclose(compare(a, b, "kendall_tau_b"), want, rtol=0, atol=1e-12)
    # paired path of the noise ceiling / bootstrap code
    from workbench.rsa._compare import _similarity

    np.testing.assert_allclose(_similarity(a[:3], b, "kendall_tau_b", paired=True), np.diag(want[:3]), atol=1e-12)


def test_rsatoolbox_method_aliases(vecs):
    a, b = vecs
    for alias, name in [("corr", "pearson"), ("tau-a", "kendall_tau_a"), ("tau-b", "kendall_tau_b"), ("rho-a", "rho_a")]:
        np.testing.assert_array_equal(compare(a, b, alias), compare(a, b, name))


def test_compare_nan_positions_dropped(rng):
    a = rng.normal(size=(2, 10))
    b = rng.normal(size=(3, 10))
    a[:, [2, 7]] = np.nan
    b[:, [2, 7]] = np.nan
    keep = np.ones(10, bool)
    keep[[2, 7]] = False
    np.testing.assert_allclose(compare(a, b, "spearman"), compare(a[:, keep], b[:, keep], "spearman"))
    b[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaNs at different positions"):
        compare(a, b)


def ref_cov_nan(a, b, keep, method):
    """Whitened similarity with missing entries, rsatoolbox's definition: remove row and
    column effects from the vectorised second moment g (-d/2 off-diagonal, 0 diagonal) by
    g - D X (X^T D X)^-1 X^T g (X: pairs+diagonal x conditions indicator, D: weights 1/2
    off-diagonal, 1 diagonal), explicit matrices (fine at test sizes)."""
    n = (1 + math.isqrt(1 + 8 * keep.size)) // 2
    iu = np.triu_indices(n, 1)
    pairs = [(i, j) for i, j, k in zip(*iu, keep) if k]
    x = np.zeros((len(pairs) + n, n))
    for r, (i, j) in enumerate(pairs):
        x[r, i] = x[r, j] = 1
    x[len(pairs) :] = np.eye(n)
    dw = np.diag(np.r_[np.full(len(pairs), 0.5), np.ones(n)])
    proj = dw @ x @ np.linalg.inv(x.T @ dw @ x) @ x.T
    scale = np.r_[np.full(len(pairs), np.sqrt(2)), np.ones(n)]

    def w(v):
        v = v[keep]
        if method == "corr_cov":
            v = v - v.mean()
        g = np.r_[-v / 2, np.zeros(n)]
        return (g - proj @ g) * scale

    return np.array([[w(u) @ w(v) / np.linalg.norm(w(u)) / np.linalg.norm(w(v)) for v in b] for u in a])


@pytest.mark.parametrize("method", ["corr_cov", "cosine_cov"])
def test_compare_cov_with_nans(rng, method):
    a = rng.normal(size=(2, 21))  # 7 conditions
    b = rng.normal(size=(3, 21))
    a[:, [0, 5, 17]] = b[:, [0, 5, 17]] = np.nan
    keep = ~np.isnan(a[0])
    np.testing.assert_allclose(compare(a, b, method), ref_cov_nan(a, b, keep, method), atol=1e-12)
    # without NaNs the weighted projection is plain double centring
    a0, b0 = np.nan_to_num(a, nan=0.3), np.nan_to_num(b, nan=0.7)
    np.testing.assert_allclose(compare(a0, b0, method), ref_cov_nan(a0, b0, np.ones(21, bool), method), atol=1e-12)


def test_compare_time(rng):
    x = rng.normal(size=(6, 5, 4))
    data = rdm(x, "euclidean")  # (cond, cond, time)
    model = rdm(x[:, :, 0], "euclidean")
    out = compare(model, data, "spearman")
    assert out.shape == (1, 1, 4)
    assert out[0, 0, 0] == pytest.approx(1.0)
    for t in range(4):
        assert out[0, 0, t] == pytest.approx(compare(model, data.isel(time=t), "spearman")[0, 0])
    np.testing.assert_allclose(compare(data, data, "pearson")[0, 0], 1.0)


def test_compare_bad_inputs(rng):
    with pytest.raises(ValueError, match="method"):
        compare(np.ones(3), np.ones(3), "kendall")
    with pytest.raises(ValueError, match="different numbers"):
        compare(np.ones(3), np.ones(6))
    with pytest.raises(TypeError, match="rdm_a"):
        compare([1.0, 2.0, 3.0], np.ones(3))
    with pytest.raises(ValueError, match="rdm_b"):
        compare(np.ones(3), np.array([1.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match="n\\*\\(n-1\\)/2"):
        compare(np.ones(4), np.ones(4), "corr_cov")
    a = rdm(rng.normal(size=(3, 4)))
    b = a.assign_coords(condition=[5, 6, 7], condition_b=[5, 6, 7])
    with pytest.raises(ValueError, match="condition labels"):
        compare(a, b)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 8), st.integers(0, 2**31 - 1), st.sampled_from(COMPARE_METHODS))
def test_compare_properties(n, seed, method):
    r = np.random.default_rng(seed)
    p = n * (n - 1) // 2
    a, b = r.uniform(size=(2, p)), r.uniform(size=(3, p))
    s = compare(a, b, method)
    np.testing.assert_allclose(compare(b, a, method), s.T, atol=1e-12)  # symmetry
    assert (np.abs(s) <= 1 + 1e-12).all()
    if method in ("spearman", "kendall_tau_a", "kendall_tau_b", "rho_a"):  # rank measures: monotone invariance
        np.testing.assert_allclose(compare(np.exp(3 * a), b, method), s, atol=1e-12)
    if method in ("pearson", "corr_cov"):  # affine invariance
        np.testing.assert_allclose(compare(2 * a + 5, b, method), s, atol=1e-9)


# ---------------------------------------------------------------- rsatoolbox and real data


@pytest.mark.parametrize("method", COMPARE_METHODS)
@pytest.mark.requires("rsatoolbox")
def test_compare_matches_rsatoolbox(rng, method):
    from rsatoolbox.rdm import compare as rs_compare

    a = rng.normal(size=(4, 45))
    b = rng.normal(size=(3, 45))
    b[2] = np.round(b[2])  # ties
    np.testing.assert_allclose(compare(a, b, method), rs_compare(a, b, RSA_NAMES[method]), rtol=0, atol=1e-10)
    a[:, [1, 7, 30]] = b[:, [1, 7, 30]] = np.nan  # missing entries (as after a condition bootstrap)
    np.testing.assert_allclose(compare(a, b, method), rs_compare(a, b, RSA_NAMES[method]), rtol=0, atol=1e-10)


def _load_92(data_file):
    import scipy.io as sio

    d = sio.loadmat(str(data_file("kriegeskorte2008_92images/Kriegeskorte_Neuron2008_supplementalData.mat")))
    x = d["RDMs_mIT_hIT_fig1"]
    return np.asarray(x["RDM"][0, 0], float).ravel(), np.asarray(x["RDM"][0, 1], float).ravel()


@pytest.mark.data
def test_92_images_monkey_vs_human_it(data_file):
    mit, hit = _load_92(data_file)
    assert mit.size == 4186
    assert compare(mit, hit, "spearman")[0, 0] == pytest.approx(0.439, abs=5e-4)


@pytest.mark.data
@pytest.mark.parametrize("method", [m for m in COMPARE_METHODS if m != "kendall_tau_a"] + [pytest.param("kendall_tau_a", marks=pytest.mark.slow)])
@pytest.mark.requires("rsatoolbox")
def test_92_images_all_methods_match_rsatoolbox(data_file, method):
    from rsatoolbox.rdm import compare as rs_compare

    mit, hit = _load_92(data_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = rs_compare(mit[None], hit[None], RSA_NAMES[method])
    np.testing.assert_allclose(compare(mit, hit, method), want, rtol=0, atol=1e-10)
