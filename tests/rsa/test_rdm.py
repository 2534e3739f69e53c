"""workbench.rsa.rdm / noise_precision against loop references and rsatoolbox 0.3.2."""

import importlib.util
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from workbench.rsa import noise_precision, rdm, to_matrix, upper_tri


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


# Per test, so that the self-contained tests of this file run without rsatoolbox.
needs_rsatoolbox = pytest.mark.skipif(not _importable("rsatoolbox"), reason="rsatoolbox not installed")


# ---------------------------------------------------------------- loop references
def ref_means(x, labels):
    uniq = sorted(set(labels.tolist()))
    return np.array([x[labels == u].mean(axis=0) for u in uniq]), uniq


def ref_rdm(m, method, noise=None):
    """m: (C, P) condition means. Double loop over pairs."""
    c, p = m.shape
    out = np.zeros((c, c))
    for i in range(c):
        for j in range(c):
            if i == j:
                continue
            a, b = m[i], m[j]
            if method == "correlation":
                out[i, j] = 1 - np.corrcoef(a, b)[0, 1]
            elif method in ("euclidean", "sqeuclidean"):
                out[i, j] = np.sum((a - b) ** 2) / p
            elif method == "cosine":
                out[i, j] = 1 - a @ b / np.linalg.norm(a) / np.linalg.norm(b)
            elif method == "mahalanobis":
                out[i, j] = (a - b) @ noise @ (a - b) / p
            elif method == "poisson":
                la, lb = (a + 0.1) / 1.1, (b + 0.1) / 1.1
                out[i, j] = np.sum((la - lb) * (np.log(la) - np.log(lb))) / p
    return out


def ref_crossnobis(x, labels, runs, noise):
    uniq = sorted(set(labels.tolist()))
    folds = sorted(set(runs.tolist()))
    p = x.shape[1]
    out = np.zeros((len(uniq), len(uniq)))
    for f in folds:
        for i, ci in enumerate(uniq):
            for j, cj in enumerate(uniq):
                if i == j:
                    continue
                tr = runs != f
                te = runs == f
                a = x[tr & (labels == ci)].mean(0) - x[tr & (labels == cj)].mean(0)
                b = x[te & (labels == ci)].mean(0) - x[te & (labels == cj)].mean(0)
                out[i, j] += a @ noise @ b / p / len(folds)
    return out


@pytest.fixture
def trials(rng):
    c, reps, p = 5, 4, 7
    labels = np.repeat(np.array([3, 1, 4, 0, 2]), reps)  # unsorted labels
    runs = np.tile(np.arange(reps), c)
    x = rng.normal(size=(c * reps, p)) + np.repeat(rng.normal(size=(c, p)) * 2, reps, axis=0)
    return x, labels, runs


@pytest.mark.parametrize("method", ["correlation", "euclidean", "sqeuclidean", "cosine", "mahalanobis", "poisson"])
def test_rdm_matches_loop_reference(trials, rng, method):
    x, labels, _ = trials
    if method == "poisson":
        x = rng.poisson(3.0, size=x.shape).astype(np.float64)
    noise = None
    if method == "mahalanobis":
        a = rng.normal(size=(7, 7))
        noise = a @ a.T / 7 + np.eye(7)
    out = rdm(x, method, labels=labels, noise=noise)
    m, uniq = ref_means(x, labels)
    np.testing.assert_allclose(out.values, ref_rdm(m, method, noise), atol=1e-12)
    assert out.dims == ("condition", "condition_b")
    np.testing.assert_array_equal(out["condition"].values, uniq)
    np.testing.assert_array_equal(np.diag(out.values), 0)
    np.testing.assert_array_equal(out.values, out.values.T)


@pytest.mark.parametrize("method", ["crossnobis", "cv_euclidean"])
def test_crossnobis_matches_loop_reference(trials, rng, method):
    x, labels, runs = trials
    a = rng.normal(size=(7, 7))
    noise = a @ a.T / 7 + np.eye(7)
    out = rdm(x, method, labels=labels, runs=runs, noise=noise if method == "crossnobis" else None)
    want = ref_crossnobis(x, labels, runs, noise if method == "crossnobis" else np.eye(7))
    np.testing.assert_allclose(out.values, want, atol=1e-12)
    # default runs: k-th repetition is run k -- same as the explicit runs here
    np.testing.assert_allclose(rdm(x, method, labels=labels).values, rdm(x, method, labels=labels, runs=runs).values, atol=1e-13)


def test_crossnobis_unbalanced_runs(rng):
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    runs = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])  # run 2 has condition 0 twice
    x = rng.normal(size=(10, 4))
    np.testing.assert_allclose(rdm(x, "cv_euclidean", labels=labels, runs=runs).values, ref_crossnobis(x, labels, runs, np.eye(4)), atol=1e-12)
    with pytest.raises(ValueError, match="runs"):
        rdm(x, "cv_euclidean", labels=labels)  # unequal repetitions need explicit runs


def test_rdm_time_axis_and_xarray(trials):
    x, labels, _ = trials
    xt = np.stack([x, 2 * x + 1, x**2], axis=2)  # (obs, unit, time)
    da = xr.DataArray(xt, dims=("trial", "unit", "time"), coords={"trial": labels, "time": [0.0, 0.1, 0.2]})
    out = rdm(da, "euclidean")
    assert out.dims == ("condition", "condition_b", "time")
    np.testing.assert_array_equal(out["time"].values, [0.0, 0.1, 0.2])
    for t in range(3):
        np.testing.assert_allclose(out.isel(time=t).values, rdm(xt[:, :, t], "euclidean", labels=labels).values, atol=1e-12)
    # correlation / cosine use a batched path over time: same as bin by bin
    for method in ("correlation", "cosine"):
        for rm in (False, True):
            got = rdm(xt + 1.0, method, remove_mean=rm).values
            for t in range(3):
                np.testing.assert_allclose(got[:, :, t], ref_rdm(xt[:, :, t] + 1.0 - (xt[:, :, t].mean(1, keepdims=True) + 1.0 if rm else 0), method), atol=1e-12)
    # time not last: transposed input gives the same
    out2 = rdm(da.transpose("trial", "time", "unit"), "euclidean")
    np.testing.assert_allclose(out2.values, out.values)
    # trial data as workbench.neural returns it: index coord "trial", labels in another coord
    spikes = xr.DataArray((xt > 0).astype(np.uint8), dims=("trial", "unit", "time"), coords={"trial": np.arange(20), "stimulus_ID": ("trial", labels)})
    by_stim = rdm(spikes, "euclidean", labels="stimulus_ID")
    assert by_stim.sizes["condition"] == 5
    m = ref_means((xt[:, :, 1] > 0).astype(float), labels)[0]
    np.testing.assert_allclose(by_stim.isel(time=1).values, ref_rdm(m, "euclidean"), atol=1e-12)
    assert rdm(xr.DataArray(xt[:, :, 0] > 0), "euclidean").shape == (20, 20)  # bool accepted
    # labels from a named non-index coordinate
    da2 = xr.DataArray(x, dims=("trial", "unit"), coords={"stim": ("trial", labels)})
    np.testing.assert_allclose(rdm(da2, labels="stim").values, rdm(x, labels=labels).values)


def test_rdm_edge_cases(rng):
    # single observation per condition, T=1 time axis, one condition
    x = rng.normal(size=(3, 4, 1))
    assert rdm(x).shape == (3, 3, 1)
    one = rdm(rng.normal(size=(1, 4)), "euclidean")
    assert one.shape == (1, 1) and one.values[0, 0] == 0
    # all-zero input: euclidean 0, cosine / correlation undefined -> error
    z = np.zeros((3, 4))
    np.testing.assert_array_equal(rdm(z, "euclidean").values, 0)
    with pytest.raises(ValueError, match="constant"):
        rdm(z, "correlation")
    with pytest.raises(ValueError, match="all-zero"):
        rdm(z, "cosine")
    # float32 and int input accepted (computed in float64)
    x32 = rng.normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_allclose(rdm(x32).values, rdm(x32.astype(np.float64)).values, atol=1e-12)
    assert rdm(np.arange(12).reshape(4, 3) ** 2, "euclidean").dtype == np.float64


def plain_rdm_array(values, labels, time=None, method="correlation"):
    """The labelled RDM built with the ordinary xarray constructor (what rdm's fast build must equal)."""
    dims = ("condition", "condition_b") if time is None else ("condition", "condition_b", "time")
    coords = {"condition": labels, "condition_b": labels}
    if time is not None:
        coords["time"] = time
    return xr.DataArray(values, dims=dims, coords=coords, name="rdm", attrs={"method": method})


@pytest.mark.parametrize("method", ["correlation", "cosine"])
def test_rdm_correlation_fast_path(rng, method):
    """Unaveraged correlation / cosine (one Gram product per bin, no input scan, fast labelling)."""
    x = rng.normal(size=(6, 9)) + 0.5
    out = rdm(x, method)
    np.testing.assert_allclose(out.values, ref_rdm(x, method), atol=1e-12)
    np.testing.assert_array_equal(out.values, out.values.T)  # exactly symmetric, zero diagonal
    np.testing.assert_array_equal(np.diag(out.values), 0.0)
    xr.testing.assert_identical(out, plain_rdm_array(out.values, np.arange(6), method=method))
    # with time (batched products), string labels and a float time coordinate
    xt = rng.normal(size=(5, 8, 3))
    da = xr.DataArray(xt, dims=("stim", "unit", "time"), coords={"stim": list("edcba"), "time": [0.0, 0.05, 0.1]})
    got = rdm(da, method)
    order = np.argsort(list("edcba"))  # conditions sorted by label
    for t in range(3):
        np.testing.assert_allclose(got.values[:, :, t], ref_rdm(xt[order, :, t], method), atol=1e-12)
        np.testing.assert_array_equal(got.values[:, :, t], got.values[:, :, t].T)
    xr.testing.assert_identical(got, plain_rdm_array(got.values, list("abcde"), [0.0, 0.05, 0.1], method))
    # batch of 1: a single condition gives a 1x1 zero RDM
    assert rdm(rng.normal(size=(1, 4)), method).values.tolist() == [[0.0]]
    assert rdm(rng.normal(size=(1, 4, 2)), method).shape == (1, 1, 2)
    # a non-finite value anywhere (also only in a late time bin) is reported as such
    for bad in (np.nan, np.inf, -np.inf):
        y = rng.normal(size=(4, 5, 3))
        y[2, 1, 2] = bad
        with pytest.raises(ValueError, match="data contains NaN or infinite"):
            rdm(y, method)
        with pytest.raises(ValueError, match="data contains NaN or infinite"):
            rdm(y[:, :, 2], method)
    with pytest.raises(ValueError, match="overflow"):
        rdm(rng.normal(size=(3, 4)) * 1e200, method)  # finite input whose norms overflow


@pytest.mark.parametrize("value", [0.1, 1 / 3, 0.7, 123.456])
def test_rdm_constant_pattern_detected_despite_rounding(rng, value):
    """A constant row minus its computed mean is rounding residue, not exactly 0: still an error."""
    x = rng.normal(size=(4, 1000))
    x[1] = value
    # single bin, time axis (batched path), repeated trials (averaged path)
    for data, labels in ((x, None), (np.repeat(x[:, :, None], 2, axis=2), None), (np.tile(x, (2, 1)), np.tile(np.arange(4), 2))):
        with pytest.raises(ValueError, match="constant"):
            rdm(data, "correlation", labels=labels)
    with pytest.raises(ValueError, match="constant"):
        rdm(x, "cosine", remove_mean=True)
    # a tiny but real spread is not constant
    y = rng.normal(size=(4, 50))
    y[1] = 5.0 + 1e-6 * y[1]
    np.testing.assert_allclose(rdm(y).values, ref_rdm(y, "correlation"), atol=1e-9)


def test_rdm_bad_inputs(rng):
    x = rng.normal(size=(4, 5))
    with pytest.raises(ValueError, match="method"):
        rdm(x, "manhattan")
    with pytest.raises(TypeError, match="data"):
        rdm(x.tolist())
    with pytest.raises(ValueError, match="data"):
        rdm(np.full((4, 5), np.nan))
    with pytest.raises(ValueError, match="labels"):
        rdm(x, labels=np.arange(3))
    with pytest.raises(ValueError, match="noise"):
        rdm(x, "mahalanobis", noise=np.eye(4))
    with pytest.raises(ValueError, match="noise"):
        rdm(x, "mahalanobis")  # no repeats to estimate it from
    with pytest.raises(ValueError, match="noise"):
        rdm(x, "euclidean", noise=np.eye(5))
    with pytest.raises(ValueError, match="poisson"):
        rdm(-np.ones((3, 2)), "poisson")
    with pytest.raises(ValueError, match="run"):
        rdm(x, "crossnobis", labels=[0, 1, 0, 1], runs=[0, 0, 0, 0])
    with pytest.raises(ValueError, match="run"):
        rdm(x, "crossnobis", labels=np.array([0, 1, 0, 2]), runs=np.array([0, 0, 1, 1]))


# ---------------------------------------------------------------- condensed form
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_upper_tri_roundtrip(n, seed):
    v = np.random.default_rng(seed).normal(size=(2, n * (n - 1) // 2))
    m = to_matrix(v)
    assert m.shape == (2, n, n)
    np.testing.assert_array_equal(m, np.swapaxes(m, 1, 2))
    np.testing.assert_array_equal(upper_tri(m), v)
    # row-major order of the upper triangle (scipy squareform order)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            assert m[0, i, j] == v[0, k]
            k += 1


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.floats(-10, 10)))
def test_rdm_properties(x):
    d = rdm(x, "euclidean").values
    assert (d >= -1e-9).all() and np.allclose(d, d.T)
    # shifting all patterns by one vector leaves euclidean distances unchanged
    np.testing.assert_allclose(rdm(x + 3.0, "euclidean").values, d, atol=1e-9)


def test_helpers_bad_inputs():
    with pytest.raises(ValueError, match="n\\*\\(n-1\\)/2"):
        to_matrix(np.zeros(4))
    with pytest.raises(ValueError, match="rdms"):
        upper_tri(np.zeros((3, 4)))


# ---------------------------------------------------------------- noise precision
@pytest.mark.parametrize("method", ["shrinkage_diag", "shrinkage_eye", "diag", "full"])
def test_noise_precision_reference(rng, method):
    res = rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5))
    cov = noise_precision(res, method=method, return_covariance=True)
    c = res - res.mean(0)
    n = c.shape[0]
    s = c.T @ c / (n - 1)
    if method == "full":
        want = s
    elif method == "diag":
        want = np.diag(np.diag(s))
    elif method == "shrinkage_eye":
        # Ledoit-Wolf (2004) with explicit loops
        sn = c.T @ c / n
        mu = np.trace(sn) / 5
        d2 = np.sum((sn - mu * np.eye(5)) ** 2)
        b2 = sum(np.sum((np.outer(r, r) - sn) ** 2) for r in c) / n / n
        b2 = min(b2, d2)
        want = (b2 / d2 * mu * np.eye(5) + (d2 - b2) / d2 * sn) * n / (n - 1)
    else:
        # Schaefer-Strimmer (2005) target "D": correlations shrunk by lambda.  rsatoolbox
        # estimates Var(r_ij) as n/(n-1)^2 * (sum_k w_k^2/(n-1) - r_ij^2) (not exactly the
        # paper's n/(n-1)^3 sum_k (w_k - mean w)^2); we follow rsatoolbox.
        sd = np.sqrt(np.diag(s))
        w = np.array([np.outer(r / sd, r / sd) for r in c])  # standardised cross products
        r_hat = w.sum(0) / (n - 1)
        var_r = n / (n - 1) ** 2 * ((w**2).sum(0) / (n - 1) - r_hat**2)
        off = ~np.eye(5, dtype=bool)
        lam = np.clip(var_r[off].sum() / (r_hat[off] ** 2).sum(), 0, 1)
        want = s * np.where(off, 1 - lam, 1)
    np.testing.assert_allclose(cov, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(noise_precision(res, method=method) @ cov, np.eye(5), atol=1e-9)


def test_noise_precision_bad_inputs(rng):
    with pytest.raises(ValueError, match="method"):
        noise_precision(rng.normal(size=(5, 2)), method="oas")
    with pytest.raises(ValueError, match="2 observations"):
        noise_precision(rng.normal(size=(1, 2)))
    with pytest.raises(ValueError, match="dof"):
        noise_precision(rng.normal(size=(3, 2)), np.array([0, 1, 2]))


# ---------------------------------------------------------------- rsatoolbox parity


@pytest.mark.parametrize("method", ["correlation", "euclidean", "mahalanobis", "crossnobis", "poisson", "cv_euclidean"])
@needs_rsatoolbox
def test_rdm_matches_rsatoolbox(trials, rng, method):
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import prec_from_residuals
    from rsatoolbox.rdm import calc_rdm

    x, labels, runs = trials
    if method == "poisson":
        x = rng.poisson(2.0, size=x.shape).astype(np.float64)
    prec = prec_from_residuals(rng.normal(size=(30, x.shape[1])))
    ds = Dataset(x, obs_descriptors={"cond": labels, "run": runs})
    kw = {"noise": prec} if method in ("mahalanobis", "crossnobis") else {}
    rs_method = "crossnobis" if method == "cv_euclidean" else method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = calc_rdm(ds, rs_method, "cond", cv_descriptor="run" if "c" in rs_method[:2] else None, **kw).get_vectors()[0]
    got = upper_tri(rdm(x, method, labels=labels, runs=runs if method in ("crossnobis", "cv_euclidean") else None, **kw).values)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", ["shrinkage_diag", "shrinkage_eye", "diag", "full"])
@needs_rsatoolbox
def test_noise_precision_matches_rsatoolbox(trials, rng, method):
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import prec_from_residuals, prec_from_unbalanced

    x, labels, _ = trials
    res = rng.normal(size=(25, 7))
    np.testing.assert_allclose(noise_precision(res, method=method), prec_from_residuals(res, method=method), atol=1e-10)
    ds = Dataset(x, obs_descriptors={"cond": labels})
    np.testing.assert_allclose(noise_precision(x, labels, method=method), prec_from_unbalanced(ds, "cond", method=method), atol=1e-10)


@needs_rsatoolbox
def test_rdm_time_matches_rsatoolbox_movie(trials):
    from rsatoolbox.data import TemporalDataset
    from rsatoolbox.rdm import calc_rdm_movie

    x, labels, _ = trials
    xt = np.stack([x, np.sin(x), x * 3], axis=2)
    ds = TemporalDataset(xt, obs_descriptors={"cond": labels}, time_descriptors={"time": np.arange(3)})
    want = calc_rdm_movie(ds, "correlation", "cond").get_vectors()
    got = upper_tri(rdm(xt, "correlation", labels=labels).transpose("time", "condition", "condition_b"))
    np.testing.assert_allclose(got, want, atol=1e-10)
