"""workbench.rsa.rdm / noise_precision against loop references and rsatoolbox 0.3.2."""

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from workbench.rsa import noise_precision, rdm, to_matrix, upper_tri



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
    assert_same_labelled(got, got.values, np.array(list("abcde")), method, np.array([0.0, 0.05, 0.1]))
    # integer condition ids and a datetime time axis
    days = np.array(["2026-01-01", "2026-01-02", "2026-01-03"], dtype="datetime64[ns]")
    got = rdm(xr.DataArray(xt, dims=("stim", "unit", "time"), coords={"stim": [7, 3, 5, 1, 9], "time": days}), method)
    assert_same_labelled(got, got.values, np.array([1, 3, 5, 7, 9]), method, days)
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


def ref_single_bin(x, method):
    """Plain single-bin correlation / cosine RDM: centre / normalise the patterns, one product."""
    x = np.asarray(x, dtype=np.float64)
    if method == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = 1.0 - u @ u.T
    np.fill_diagonal(d, 0.0)
    return d


def assert_same_labelled(out, values, labels, method, time=None):
    """``out`` equals the public-constructor DataArray, down to its pandas indexes."""
    plain = plain_rdm_array(values, labels, time, method=method)
    xr.testing.assert_identical(out, plain)
    for dim in out.dims:
        got, want = out.indexes[dim], plain.indexes[dim]
        assert type(got) is type(want) and got.name == want.name == dim and got.dtype == want.dtype
        assert out.xindexes[dim].coord_dtype == plain.xindexes[dim].coord_dtype
        assert out[dim].dtype == plain[dim].dtype
    # each dim owns its labels, as with the constructor
    assert not np.shares_memory(out.indexes["condition"].values, out.indexes["condition_b"].values)
    if time is None:
        assert out.to_pandas().equals(plain.to_pandas())


@pytest.mark.parametrize("method", ["correlation", "cosine"])
@pytest.mark.parametrize(
    "case",
    ["random", "one_condition", "ties", "mean_dominated", "one_mean_dominated", "int", "float32", "bool", "strided", "fortran", "unaligned"],
)
def test_rdm_single_bin_matches_reference(rng, method, case):
    """One pattern per condition, no time axis (rdm's shortest path) against a plain NumPy RDM."""
    x = rng.normal(size=(12, 30))
    if case == "one_condition":
        x = x[:1]
    elif case == "ties":
        x[3] = x[7]  # identical patterns: distance 0 (up to rounding)
        x[5] = 2.5 * x[1] + (0.0 if method == "cosine" else 4.0)  # same correlation / direction
    elif case == "mean_dominated":
        x = x + 100.0  # every mean dominates its spread: explicit centring
    elif case == "one_mean_dominated":
        x[4] += 50.0
    elif case == "int":
        x = rng.integers(-3, 9, size=(9, 40))
    elif case == "float32":
        x = x.astype(np.float32)
    elif case == "bool":
        x = rng.random((6, 25)) < 0.5
    elif case == "strided":
        x = rng.normal(size=(24, 30))[::2, 1::2]
    elif case == "fortran":
        x = np.asfortranarray(x)
    elif case == "unaligned":  # numpy's matmul then skips BLAS
        x = np.ndarray(x.shape, dtype=np.float64, buffer=bytearray(x.nbytes + 1), offset=1)
        x[...] = rng.normal(size=x.shape)
        assert not x.flags.aligned
    before = x.copy()
    out = rdm(x, method)
    np.testing.assert_array_equal(x, before)  # input untouched
    want = ref_single_bin(x, method)
    np.testing.assert_allclose(out.values, want, rtol=0, atol=1e-12)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.values, out.values.T)  # exactly symmetric
    np.testing.assert_array_equal(np.diag(out.values), 0.0)
    assert_same_labelled(out, out.values, np.arange(x.shape[0]), method)
    if case == "ties":
        assert abs(out.values[3, 7]) < 1e-14 and abs(out.values[1, 5]) < 1e-14
    # the same patterns as a T=1 time axis and as a DataArray with (sorted) condition ids
    ids = np.arange(x.shape[0]) * 3 + 1
    for got in (rdm(x[:, :, None], method).isel(time=0), rdm(xr.DataArray(x, dims=("stim", "unit"), coords={"stim": ids}), method)):
        np.testing.assert_allclose(got.values, want, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(got.values, got.values.T)
        np.testing.assert_array_equal(np.diag(got.values), 0.0)
    # remove_mean makes cosine the correlation distance
    if method == "cosine":
        np.testing.assert_allclose(rdm(x, "cosine", remove_mean=True).values, ref_single_bin(x, "correlation"), rtol=0, atol=1e-12)


def test_rdm_single_bin_edge_errors(rng):
    # 1x1 and single-feature patterns are constant: correlation undefined, cosine fine
    with pytest.raises(ValueError, match="constant"):
        rdm(rng.normal(size=(1, 1)))
    with pytest.raises(ValueError, match="constant"):
        rdm(rng.normal(size=(4, 1)))
    assert rdm(np.array([[2.0]]), "cosine").values.tolist() == [[0.0]]
    scalars = np.array([[1.5], [-2.0], [0.25]])  # cosine of scalars: 0 (same sign) or 2
    np.testing.assert_array_equal(rdm(scalars, "cosine").values, [[0, 2, 0], [2, 0, 2], [0, 2, 0]])
    with pytest.raises(ValueError, match="all-zero"):
        rdm(np.array([[0.0]]), "cosine")
    # one all-zero / constant row among good ones, with short patterns (tight rounding bound)
    for p in (2, 3, 1000):
        for value in (0.0, 0.1, 1 / 3, -7.3, 1e5):
            x = rng.normal(size=(5, p))
            x[2] = value
            with pytest.raises(ValueError, match="constant"):
                rdm(x)
    # non-finite values in a mean-dominated pattern, or overflowing only after centring
    x = rng.normal(size=(4, 6)) + 100.0
    x[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        rdm(x)
    with pytest.raises(TypeError, match="data"):
        rdm(np.ones((3, 4), dtype=complex))
    with pytest.raises(TypeError, match="data"):
        rdm(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="data"):
        rdm(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="data"):
        rdm(np.zeros((3, 0)), "cosine")
    with pytest.raises(TypeError, match="remove_mean"):
        rdm(rng.normal(size=(3, 4)), remove_mean=1)


@pytest.mark.parametrize("labels", [np.array([4, 2, 9], dtype=np.int32), np.array([3, 1, 2], dtype=np.uint8), np.array([0.5, -1.0, 2.0]), np.array([0.5, -1.0, 2.0], dtype=np.float32), np.array(["b", "a", "c"]), np.array([True, False, True, False])])
def test_rdm_labels_identical_to_constructor(rng, labels):
    """The directly assembled coordinates equal xarray's own, for every label dtype."""
    x = rng.normal(size=(labels.size * 2, 7))
    lab = np.tile(labels, 2)
    out = rdm(x, "correlation", labels=lab)
    uniq = np.unique(labels)
    m = np.array([x[lab == u].mean(axis=0) for u in uniq])
    np.testing.assert_allclose(out.values, ref_single_bin(m, "correlation"), rtol=0, atol=1e-12)
    assert_same_labelled(out, out.values, uniq, "correlation")
    # the result behaves like a constructed one
    first = uniq[0]
    np.testing.assert_array_equal(out.sel(condition=first).values, out.values[0])
    stacked = xr.concat([out, out], dim="subject")
    assert stacked.sizes == {"subject": 2, "condition": uniq.size, "condition_b": uniq.size}
    assert rdm(x[: labels.size], "euclidean", labels=labels).indexes["condition"].equals(out.indexes["condition"])


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 7), st.integers(3, 12)), elements=st.floats(-10, 10)),
    st.integers(0, 2**31 - 1),
)
def test_rdm_correlation_invariant_to_affine_maps(x, seed):
    """Correlation distance ignores a positive scale and any offset per pattern."""
    assume((x.std(axis=1) > 0.1).all())
    g = np.random.default_rng(seed)
    scale = g.uniform(0.5, 4.0, size=(x.shape[0], 1))
    shift = g.uniform(-50.0, 50.0, size=(x.shape[0], 1))
    d = rdm(x).values
    np.testing.assert_allclose(rdm(scale * x + shift).values, d, rtol=0, atol=1e-9)
    np.testing.assert_allclose(d, ref_single_bin(x, "correlation"), rtol=0, atol=1e-12)
    assert (d >= -1e-12).all() and (d <= 2 + 1e-12).all()
    np.testing.assert_array_equal(d, d.T)


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
@pytest.mark.requires("rsatoolbox")
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
@pytest.mark.requires("rsatoolbox")
def test_noise_precision_matches_rsatoolbox(trials, rng, method):
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import prec_from_residuals, prec_from_unbalanced

    x, labels, _ = trials
    res = rng.normal(size=(25, 7))
    np.testing.assert_allclose(noise_precision(res, method=method), prec_from_residuals(res, method=method), atol=1e-10)
    ds = Dataset(x, obs_descriptors={"cond": labels})
    np.testing.assert_allclose(noise_precision(x, labels, method=method), prec_from_unbalanced(ds, "cond", method=method), atol=1e-10)


@pytest.mark.requires("rsatoolbox")
def test_rdm_time_matches_rsatoolbox_movie(trials):
    from rsatoolbox.data import TemporalDataset
    from rsatoolbox.rdm import calc_rdm_movie

    x, labels, _ = trials
    xt = np.stack([x, np.sin(x), x * 3], axis=2)
    ds = TemporalDataset(xt, obs_descriptors={"cond": labels}, time_descriptors={"time": np.arange(3)})
    want = calc_rdm_movie(ds, "correlation", "cond").get_vectors()
    got = upper_tri(rdm(xt, "correlation", labels=labels).transpose("time", "condition", "condition_b"))
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_label_fast_path_falls_back_to_the_public_one(rng, monkeypatch):
    # The fast label construction uses private pandas/xarray pieces; if a release changes
    # them, the import-time check must say so and the public path must give the same RDM.
    from workbench.rsa import _rdm

    x = rng.standard_normal((7, 20))
    fast = rdm(x, method="correlation")
    monkeypatch.setattr(_rdm, "_FAST_LABELS", False)
    xr.testing.assert_identical(rdm(x, method="correlation"), fast)

    def broken(*args, **kwargs):
        raise AttributeError("changed in a new pandas")

    monkeypatch.setattr(_rdm.pd.Index, "_simple_new", broken)
    assert _rdm._fast_labels_agree() is False
