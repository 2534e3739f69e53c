"""Representational dissimilarity matrices (RDMs) from response patterns.

Every measure is defined exactly as in rsatoolbox 0.3.2 (``rsatoolbox.rdm.calc``), so
numbers agree with it; the code here is vectorised over time bins and folds instead.
Notably rsatoolbox's ``"euclidean"`` is the *squared* Euclidean distance divided by
the number of features, and Mahalanobis / crossnobis / Poisson distances are divided
by the number of features too.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pandas as pd
import xarray as xr
from xarray.core.indexing import PandasIndexingAdapter
from xarray.indexes import PandasIndex

from .._validation import check_array, check_choice, check_float

__all__ = ["RDM_METHODS", "noise_precision", "rdm", "to_matrix", "upper_tri"]

RDM_METHODS = (
    "correlation",
    "euclidean",
    "sqeuclidean",
    "cosine",
    "mahalanobis",
    "crossnobis",
    "cv_euclidean",
    "poisson",
)
_CV_METHODS = ("crossnobis", "cv_euclidean")
# Largest |x|^2 / |x - mean(x)|^2 of a pattern for which the correlation RDM centres the
# Gram matrix instead of the data (see _correlation_rdms).
_MAX_RAW_RATIO = 4.0
_NOISE_METHODS = ("shrinkage_diag", "shrinkage_eye", "diag", "full")


# ----------------------------------------------------------------------------- helpers
def upper_tri(rdms) -> np.ndarray:
    """Condensed (upper-triangle, row-major, diagonal excluded) form of RDMs.

    The order is that of :func:`scipy.spatial.distance.squareform` and rsatoolbox.

    Parameters
    ----------
    rdms : np.ndarray or xarray.DataArray, shape (..., n_cond, n_cond) or, for a DataArray,
        dims including ``("condition", "condition_b")`` (moved to the end)

    Returns
    -------
    np.ndarray, shape (..., n_cond * (n_cond - 1) // 2)
    """
    if isinstance(rdms, xr.DataArray):
        if "condition" in rdms.dims and "condition_b" in rdms.dims:
            rest = [d for d in rdms.dims if d not in ("condition", "condition_b")]
            rdms = rdms.transpose(*rest, "condition", "condition_b").values
        else:
            rdms = rdms.values
    rdms = check_array(rdms, "rdms", min_shape=None)
    if rdms.ndim < 2 or rdms.shape[-1] != rdms.shape[-2]:
        raise ValueError(f"rdms must have shape (..., n_cond, n_cond), got {rdms.shape}")
    iu = np.triu_indices(rdms.shape[-1], 1)
    return rdms[..., iu[0], iu[1]]


def _n_from_pairs(n_pairs: int, name: str) -> int:
    n = (1 + math.isqrt(1 + 8 * n_pairs)) // 2
    if n * (n - 1) // 2 != n_pairs:
        raise ValueError(f"{name} has {n_pairs} entries, which is not n*(n-1)/2 for any n")
    return n


def to_matrix(vectors: np.ndarray) -> np.ndarray:
    """Square symmetric RDMs (zero diagonal) from condensed vectors.

    Parameters
    ----------
    vectors : np.ndarray, shape (..., n_pairs)

    Returns
    -------
    np.ndarray, shape (..., n_cond, n_cond)
    """
    vectors = check_array(vectors, "vectors")
    if vectors.ndim < 1:
        raise ValueError("vectors must have at least 1 dimension")
    n = _n_from_pairs(vectors.shape[-1], "vectors")
    out = np.zeros(vectors.shape[:-1] + (n, n), dtype=np.result_type(vectors.dtype, np.float64))
    iu = np.triu_indices(n, 1)
    out[..., iu[0], iu[1]] = vectors
    out[..., iu[1], iu[0]] = vectors
    return out


def _symmetric_from_upper(full: np.ndarray) -> np.ndarray:
    """Mirror the strict upper triangle (what rsatoolbox keeps) and zero the diagonal."""
    upper = np.triu(full, 1)
    return upper + np.swapaxes(upper, -1, -2)


def _unpack(data, labels, runs, name="data", check_finite=True):
    """Return X (n_time, n_obs, n_feat) float64, labels array, runs array or None, time coord.

    ``check_finite=False`` skips the finiteness scan, for callers that detect non-finite
    input from their (much smaller) result instead and then call :func:`_check_finite`.
    """
    time_coord = None
    if isinstance(data, xr.DataArray):
        if data.ndim not in (2, 3):
            raise ValueError(f"{name} must have 2 or 3 dims (obs, unit[, time]), got {data.dims}")
        first = data.dims[0]
        if data.ndim == 3:
            if "time" in data.dims:
                data = data.transpose(first, *[d for d in data.dims[1:] if d != "time"], "time")
            time_dim = data.dims[2]
            time_coord = (time_dim, data[time_dim].values if time_dim in data.coords else np.arange(data.shape[2]))

        def _coord(value, what):
            if isinstance(value, str):
                if value not in data.coords:
                    raise ValueError(f"{what} coordinate {value!r} not found on {name}")
                return np.asarray(data[value].values)
            return value

        labels = _coord(labels, "labels")
        runs = _coord(runs, "runs")
        if labels is None and first in data.coords:
            labels = np.asarray(data[first].values)
        values = data.values
    else:
        values = data
    values = check_array(values, name, ndim=(2, 3), min_shape=(1, 1, 1))
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must have a real numeric dtype, got {values.dtype}")
    if check_finite:
        _check_finite(values, name)
    x = values.astype(np.float64, copy=False)
    if x.ndim == 2:
        x = x[None]
    else:
        x = np.moveaxis(x, 2, 0)
        if time_coord is None:
            time_coord = ("time", np.arange(x.shape[0]))
    n_obs = x.shape[1]
    if labels is None:
        labels = np.arange(n_obs)
    labels = np.asarray(labels)
    if labels.shape != (n_obs,):
        raise ValueError(f"labels must have shape ({n_obs},), got {labels.shape}")
    if runs is not None:
        runs = np.asarray(runs)
        if runs.shape != (n_obs,):
            raise ValueError(f"runs must have shape ({n_obs},), got {runs.shape}")
    return x, labels, runs, time_coord


def _check_finite(values: np.ndarray, name: str) -> None:
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")


def _constant_up_to_rounding(sq: np.ndarray, mean: np.ndarray, n_feat: int) -> np.ndarray:
    """Whether centred patterns with squared norms ``sq`` and means ``mean`` are constant.

    A constant pattern minus its computed mean is rounding residue, not exactly 0
    (|residue| <= n_feat * eps * |mean| per entry).
    """
    return sq <= n_feat * (n_feat * np.finfo(np.float64).eps * mean) ** 2


def _pandas_index(values: np.ndarray, dim: str) -> PandasIndex:
    """The PandasIndex that ``xr.DataArray(..., coords={dim: values})`` builds for 1-D labels.

    As xarray's ``PandasIndex.from_variables``: the coordinate keeps the dtype of
    ``values`` (e.g. ``<U1`` for string labels, whose pandas Index holds ``str``).
    """
    return PandasIndex(values, dim, coord_dtype=values.dtype)


def _public_condition_coords(uniq: np.ndarray) -> tuple[dict[Hashable, xr.Variable], dict[Hashable, PandasIndex]]:
    """Coordinate variables and indexes of the "condition" and "condition_b" dims, built
    through xarray's public index API (any label dtype)."""
    indexes = {dim: _pandas_index(uniq, dim) for dim in ("condition", "condition_b")}
    coords: dict[Hashable, xr.Variable] = {}
    for index in indexes.values():
        coords.update(index.create_variables())
    return coords, indexes


def _fast_condition_coords(uniq: np.ndarray) -> tuple[dict[Hashable, xr.Variable], dict[Hashable, PandasIndex]]:
    """:func:`_public_condition_coords` for labels of a plain numeric dtype, assembled directly.

    The pandas Index, xarray's PandasIndex and the coordinate's IndexVariable are exactly
    what ``pd.Index(uniq)``, xarray's ``safe_cast_to_index`` and
    ``PandasIndex.create_variables`` produce for such labels, without the generic type
    dispatch that each of them repeats (measured: ~0.2 ms of a 0.8 ms 92-condition
    correlation RDM once other work has evicted that code from the caches).  This uses
    private pandas/xarray pieces, so it is used only when :data:`_FAST_LABELS` (checked
    once, at import, against the public path) says it still builds the same objects.
    Each dim gets its own copy of the labels, as with the public constructor.
    """
    dtype = uniq.dtype
    coords, indexes = {}, {}
    for dim, values in (("condition", uniq), ("condition_b", uniq.copy())):
        index = pd.Index._simple_new(values, dim)  # what pd.Index(values, name=dim) returns
        indexes[dim] = PandasIndex(index, dim, dtype, fastpath=True)
        adapter = object.__new__(PandasIndexingAdapter)  # what create_variables wraps it in
        adapter.array = index
        adapter._dtype = dtype
        coords[dim] = xr.IndexVariable((dim,), adapter, fastpath=True)
    return coords, indexes


def _fast_labels_agree() -> bool:
    """Whether :func:`_fast_condition_coords` builds what the public path builds with the
    installed pandas and xarray (a newer release may change the private pieces it uses)."""
    try:
        for dtype in (np.int64, np.float64):
            built = []
            for make in (_fast_condition_coords, _public_condition_coords):
                coords, indexes = make(np.arange(3, dtype=dtype))
                variable = xr.Variable(("condition", "condition_b"), np.zeros((3, 3)), fastpath=True)
                built.append(xr.DataArray(variable, coords=coords, indexes=indexes, fastpath=True))
            xr.testing.assert_identical(*built)
            if built[0].indexes["condition"].dtype != built[1].indexes["condition"].dtype:
                return False
        return True
    except Exception:  # any failure of the private route means: use the public one
        return False


_FAST_LABELS = _fast_labels_agree()


def _condition_coords(uniq: np.ndarray) -> tuple[dict[Hashable, xr.Variable], dict[Hashable, PandasIndex]]:
    """Coordinate variables and indexes of the "condition" and "condition_b" dims.

    ``uniq`` must be a fresh 1-D array owned by the caller.  Plain numeric labels (row
    numbers, integer condition ids) take :func:`_fast_condition_coords` where it is known
    to agree with the public path; strings, objects, float16, ... take the public path.
    """
    dtype = uniq.dtype
    if _FAST_LABELS and uniq.ndim == 1 and (dtype.kind in "iu" or dtype in (np.float32, np.float64)):
        return _fast_condition_coords(uniq)
    return _public_condition_coords(uniq)


def _labelled(d: np.ndarray, uniq: np.ndarray, time, method: str) -> xr.DataArray:
    """The RDM DataArray ("condition", "condition_b"[, "time"]) around ``d`` (no copy).

    Built from its parts (Variables and PandasIndexes handed to the DataArray fast path,
    see :func:`_condition_coords`): the general constructor re-infers, re-validates and
    deep-copies every coordinate and index, which cost as much as computing a
    92-condition correlation RDM.  The result is identical
    (``xarray.testing.assert_identical``, same index types and names) to
    ``xr.DataArray(d, dims=..., coords=..., name="rdm", attrs={"method": method})``.
    ``uniq`` must be a fresh array owned by the caller.
    """
    coords, indexes = _condition_coords(uniq)
    dims: tuple[str, ...] = ("condition", "condition_b")
    if time is not None:
        dims += ("time",)
        indexes["time"] = _pandas_index(time[1], "time")
        coords.update(indexes["time"].create_variables())
    variable = xr.Variable(dims, d, {"method": method}, fastpath=True)
    return xr.DataArray(variable, coords=coords, name="rdm", indexes=indexes, fastpath=True)


def _transposed_copy(x: np.ndarray) -> np.ndarray:
    """Contiguous (n_time, n_obs, n_feat) copy of the view x of an (obs, feat, time) array.

    One observation at a time: each step transposes an L2-sized (feat, time) block.
    """
    n_time, n_obs, n_feat = x.shape
    c = np.empty((n_time, n_obs, n_feat))
    for i in range(n_obs):  # n_obs iterations, each a vectorised (time, feat) block
        c[:, i, :] = x[:, i, :]
    return c


def _group_sums(x: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum rows of x (n, ...) per group id (every group must be non-empty) -> (n_groups, ...)."""
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], np.arange(n_groups))
    return np.add.reduceat(x[order], starts, axis=0)


def _condition_means(x: np.ndarray, inverse: np.ndarray, n_cond: int) -> np.ndarray:
    """Average observations per condition: (n_obs, P) -> (n_cond, P)."""
    counts = np.bincount(inverse, minlength=n_cond).astype(np.float64)
    return _group_sums(x, inverse, n_cond) / counts[:, None]


def _default_runs(inverse: np.ndarray, n_cond: int) -> np.ndarray:
    """k-th repetition of each condition forms fold k (rsatoolbox's default split)."""
    counts = np.bincount(inverse, minlength=n_cond)
    if not (counts == counts[0]).all():
        raise ValueError("runs must be given when conditions have different numbers of repetitions")
    runs = np.empty(inverse.size, dtype=np.int64)
    for c in range(n_cond):  # n_cond iterations, each vectorised
        idx = np.flatnonzero(inverse == c)
        runs[idx] = np.arange(idx.size)
    return runs


# ----------------------------------------------------------------------------- noise
def _covariance(res: np.ndarray, dof: int, method: str) -> np.ndarray:
    """Covariance estimators of rsatoolbox.data.noise on demeaned residuals (n, P)."""
    n = res.shape[0]
    s_sum = res.T @ res
    if method == "full":
        return s_sum / dof
    if method == "diag":
        return np.diag(np.einsum("ij,ij->j", res, res) / dof)
    sq = res * res
    s2_sum = sq.T @ sq  # sum over observations of (x_i x_j)^2
    if method == "shrinkage_eye":
        # Ledoit & Wolf (2004), towards a multiple of the identity.
        s = s_sum / n
        b2 = np.sum(s2_sum / n - s * s) / n
        m = np.trace(s) / s.shape[0]
        d2 = np.sum((s - m * np.eye(s.shape[0])) ** 2)
        b2 = min(d2, b2)
        shrunk = b2 / d2 * m * np.eye(s.shape[0]) + (d2 - b2) / d2 * s
        return shrunk * n / dof
    # shrinkage_diag: Schaefer & Strimmer (2005), towards the diagonal, with rsatoolbox's
    # estimate of Var(r_ij): n/(n-1)^2 * (sum_k w_k^2 / (n-1) - r_ij^2), w_k the
    # standardised cross products (slightly different from the paper's).
    s = s_sum / dof
    var = np.diag(s)
    std = np.sqrt(var)
    s_mean = s_sum / std[None, :] / std[:, None] / (n - 1)
    s2_mean = s2_sum / var[None, :] / var[:, None] / (n - 1)
    var_hat = n / dof**2 * (s2_mean - s_mean**2)
    mask = ~np.eye(s.shape[0], dtype=bool)
    lamb = np.sum(var_hat[mask]) / np.sum(s_mean[mask] ** 2)
    lamb = max(min(lamb, 1.0), 0.0)
    return s * np.where(mask, 1.0 - lamb, 1.0)


def noise_precision(
    residuals,
    labels=None,
    *,
    method: str = "shrinkage_diag",
    dof: int | None = None,
    return_covariance: bool = False,
) -> np.ndarray:
    """Noise precision (inverse covariance) over features, for Mahalanobis / crossnobis.

    Without ``labels`` this is rsatoolbox's ``prec_from_residuals`` (residuals demeaned,
    ``dof = n - 1``); with ``labels`` (trial data) it is ``prec_from_unbalanced``: each
    trial minus its condition mean, ``dof = n_trials - n_conditions``.

    Parameters
    ----------
    residuals : np.ndarray, shape (n_obs, n_feat), or a DataArray (obs, unit)
    labels : array_like, shape (n_obs,), optional
        Condition label of each observation.
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}
        Schaefer-Strimmer shrinkage towards the diagonal, Ledoit-Wolf shrinkage towards
        a scaled identity, the diagonal only, or the plain sample covariance.
    dof : int, optional
        Degrees of freedom of the covariance estimate.
    return_covariance : bool
        Return the covariance instead of its inverse.

    Returns
    -------
    np.ndarray, shape (n_feat, n_feat)
    """
    method = check_choice(method, "method", _NOISE_METHODS)
    x, lab, _, time = _unpack(residuals, labels, None, "residuals")
    if time is not None:
        raise ValueError("residuals must be 2-D (obs, unit); estimate one precision per time bin yourself")
    x = x[0]
    if x.shape[0] < 2:
        raise ValueError(f"residuals needs at least 2 observations, got {x.shape[0]}")
    if labels is not None:
        uniq, inverse = np.unique(lab, return_inverse=True)
        x = x - _condition_means(x, inverse, uniq.size)[inverse]
        default_dof = x.shape[0] - uniq.size
    else:
        default_dof = x.shape[0] - 1
    x = x - x.mean(axis=0, keepdims=True)
    if dof is None:
        dof = default_dof
    if dof < 1:
        raise ValueError(f"dof must be >= 1, got {dof} (too few observations per condition?)")
    cov = _covariance(x, dof, method)
    if return_covariance:
        return cov
    return np.linalg.inv(cov)


# ----------------------------------------------------------------------------- RDMs
def _kernel_distance(k: np.ndarray) -> np.ndarray:
    """d_ij = k_ii + k_jj - k_ij - k_ji for a stack of kernels (..., C, C)."""
    diag = np.diagonal(k, axis1=-2, axis2=-1)
    return diag[..., None, :] + diag[..., :, None] - k - np.swapaxes(k, -1, -2)


def _check_noise(noise, n_feat: int, n_time: int) -> np.ndarray:
    noise = check_array(noise, "noise", ndim=(2, 3), finite=True)
    if noise.shape[-2:] != (n_feat, n_feat) or (noise.ndim == 3 and noise.shape[0] != n_time):
        raise ValueError(f"noise must have shape ({n_feat}, {n_feat}) or ({n_time}, {n_feat}, {n_feat}), got {noise.shape}")
    return noise.astype(np.float64, copy=False)


def _crossnobis(x, inverse, runs, n_cond, noise):
    """Leave-one-run-out crossnobis, averaged over folds (rsatoolbox's definition).

    x : (n_time, n_obs, P).  Returns (n_time, C, C).
    """
    folds, fold_idx = np.unique(runs, return_inverse=True)
    n_fold = folds.size
    if n_fold < 2:
        raise ValueError("crossnobis / cv_euclidean need at least 2 runs")
    cell = fold_idx * n_cond + inverse
    counts = np.bincount(cell, minlength=n_fold * n_cond).reshape(n_fold, n_cond).astype(np.float64)
    if (counts == 0).any():
        f, c = np.argwhere(counts == 0)[0]
        raise ValueError(f"condition {c} has no observation in run {folds[f]!r}; every run must contain every condition")
    train_counts = counts.sum(0) - counts
    n_time, _, p = x.shape
    out = np.empty((n_time, n_cond, n_cond))
    for t in range(n_time):  # per bin: (F, C, P) sums, all folds in one product
        sums = _group_sums(x[t], cell, n_fold * n_cond).reshape(n_fold, n_cond, p)
        test = sums / counts[:, :, None]
        train = (sums.sum(axis=0) - sums) / train_counts[:, :, None]
        if noise is not None:
            w = noise if noise.ndim == 2 else noise[t]
            test = (test.reshape(-1, p) @ w).reshape(test.shape)
        # The fold average of the kernels A_f W B_f^T is one contraction over (fold, feature).
        a = train.transpose(1, 0, 2).reshape(n_cond, n_fold * p)
        b = test.transpose(1, 0, 2).reshape(n_cond, n_fold * p)
        out[t] = _kernel_distance(a @ b.T / n_fold) / p
    return out


def _rdm_slice(m: np.ndarray, method: str, noise, prior_lambda: float, prior_weight: float) -> np.ndarray:
    """Full dissimilarity matrix (C, C) of condition patterns m (C, P) for one time bin."""
    n_feat = m.shape[1]
    if method == "poisson":
        rate = (m + prior_lambda * prior_weight) / (1.0 + prior_weight)
        if (rate <= 0).any():
            raise ValueError("poisson needs positive rates: data must be >= 0 with prior_lambda * prior_weight > 0")
        return _kernel_distance(rate @ np.log(rate).T) / n_feat
    if method in ("correlation", "cosine"):
        mean = m.mean(axis=1, keepdims=True)
        c = m - mean if method == "correlation" else m.copy()
        sq = np.einsum("ij,ij->i", c, c)
        flat = _constant_up_to_rounding(sq, mean[:, 0], n_feat) if method == "correlation" else sq == 0
        if flat.any():
            what = "a constant pattern" if method == "correlation" else "an all-zero pattern"
            raise ValueError(f"{method} distance is undefined for {what}")
        norm = np.sqrt(sq)
        c /= norm[:, None]
        return 1.0 - c @ c.T
    if method in ("euclidean", "sqeuclidean"):
        sq = np.einsum("ij,ij->i", m, m)
        return (sq[:, None] + sq[None, :] - 2.0 * (m @ m.T)) / n_feat
    kernel = (m @ noise) @ m.T  # mahalanobis
    diag = np.diagonal(kernel)
    return (diag[None, :] + diag[:, None] - 2.0 * kernel) / n_feat


def rdm(
    data,
    method: str = "correlation",
    *,
    labels=None,
    runs=None,
    noise=None,
    prior_lambda: float = 1.0,
    prior_weight: float = 0.1,
    remove_mean: bool = False,
) -> xr.DataArray:
    """Representational dissimilarity matrix, per time bin when data has a time axis.

    Observations sharing a condition label are averaged first (except for the
    cross-validated measures), conditions are ordered by sorted label, as in rsatoolbox.
    With ``m_i`` the mean pattern of condition i over ``P`` features:

    - ``"correlation"``: ``1 - pearson(m_i, m_j)``.
    - ``"euclidean"`` / ``"sqeuclidean"``: ``||m_i - m_j||^2 / P`` (rsatoolbox calls
      this normalised squared distance "euclidean"; both names give it).
    - ``"cosine"``: ``1 - cos(m_i, m_j)`` (not in rsatoolbox; scipy's definition).
    - ``"mahalanobis"``: ``(m_i - m_j) W (m_i - m_j)^T / P`` with ``W`` the noise
      precision (``noise``; if None, estimated from within-condition residuals with
      :func:`noise_precision`, shrinkage towards the diagonal).
    - ``"crossnobis"``: leave-one-run-out ``(a_i - a_j) W (b_i - b_j)^T / P`` with ``a``
      the training-run means and ``b`` the left-out-run means, averaged over runs;
      ``W`` = ``noise`` or identity.  ``"cv_euclidean"`` is the same with ``W = I``.
    - ``"poisson"``: symmetrised KL divergence of Poisson rates
      ``sum_k (l_ik - l_jk)(log l_ik - log l_jk) / P`` with
      ``l = (m + prior_lambda * prior_weight) / (1 + prior_weight)``.

    Parameters
    ----------
    data : xarray.DataArray, dims (obs, unit[, time]), or np.ndarray, shape (n_obs, n_feat[, n_time])
        Responses.  Observations are conditions, or trials with condition labels.
    method : str
        One of :data:`RDM_METHODS`.
    labels : array_like (n_obs,) or str, optional
        Condition label per observation, or the name of a coordinate of ``data``.
        Default: the DataArray's first-dim coordinate, else one condition per row.
    runs : array_like (n_obs,) or str, optional
        Run / partition label per observation (cross-validated measures).  Default: the
        k-th repetition of each condition forms run k (needs equal repetitions).
    noise : np.ndarray, shape (n_feat, n_feat) or (n_time, n_feat, n_feat), optional
        Noise precision for ``"mahalanobis"`` / ``"crossnobis"``.
    prior_lambda, prior_weight : float
        Poisson prior (rsatoolbox defaults).
    remove_mean : bool
        Subtract each pattern's mean over features first (no effect on correlation;
        not applied to Poisson).

    Returns
    -------
    xarray.DataArray, dims ("condition", "condition_b"[, "time"])
        Symmetric, zero diagonal; coords carry the condition labels (and time).
    """
    method = check_choice(method, "method", RDM_METHODS)
    if not isinstance(remove_mean, bool):
        raise TypeError(f"remove_mean must be a bool, got {type(remove_mean).__name__}")
    # Default labels (one condition per row, in row order) need no sorting or averaging.
    default_labels = labels is None and not (isinstance(data, xr.DataArray) and data.dims[0] in data.coords)
    fast = method in ("correlation", "cosine")
    # The correlation / cosine path detects non-finite input from the Gram diagonal
    # (n_cond values per bin) instead of scanning the whole input first.
    x, lab, run, time = _unpack(data, labels, runs, check_finite=not fast)
    n_time, n_obs, n_feat = x.shape
    if default_labels:
        uniq = inverse = np.arange(n_obs)
    else:
        uniq, inverse = np.unique(lab, return_inverse=True)
    n_cond = uniq.size
    averaged = not default_labels and (n_cond != n_obs or not (inverse == np.arange(n_obs)).all())
    if fast and averaged:
        _check_finite(x, "data")
    if noise is not None:
        if method not in ("mahalanobis", "crossnobis"):
            raise ValueError(f"noise is only used by 'mahalanobis' and 'crossnobis', not {method!r}")
        noise = _check_noise(noise, n_feat, n_time)

    if method in _CV_METHODS:
        if remove_mean:
            x = x - x.mean(axis=2, keepdims=True)
        if run is None:
            run = _default_runs(inverse, n_cond)
        d = _symmetric_from_upper(_crossnobis(x, inverse, run, n_cond, noise if method == "crossnobis" else None))
    elif fast and not averaged:
        d = _correlation_rdms(x, method, remove_mean)
    else:
        if method == "poisson":
            prior_lambda = check_float(prior_lambda, "prior_lambda", min_value=0.0)
            prior_weight = check_float(prior_weight, "prior_weight", min_value=0.0)
        if method == "mahalanobis" and noise is None and n_obs == n_cond:
            raise ValueError("mahalanobis needs noise= (a precision matrix) or repeated observations per condition to estimate it")
        d = np.empty((n_time, n_cond, n_cond))
        for t in range(n_time):  # per bin: cache-sized blocks and one symmetric product each
            m = _condition_means(x[t], inverse, n_cond) if averaged else x[t]
            if remove_mean and method not in ("correlation", "poisson"):
                m = m - m.mean(axis=1, keepdims=True)
            w = None
            if method == "mahalanobis":
                if noise is None:
                    w = noise_precision(x[t], inverse)
                else:
                    w = noise if noise.ndim == 2 else noise[t]
            d[t] = _rdm_slice(m, method, w, prior_lambda, prior_weight)
        d = _symmetric_from_upper(d)
    return _labelled(d[0] if time is None else np.moveaxis(d, 0, 2), uniq, time, method)


# Non-finite input must not warn (it fails the checks below).  As a decorator errstate is
# cheaper than a with block and still thread-safe (a new context token per call).
@np.errstate(all="ignore")
def _correlation_rdm_single(x: np.ndarray, centre: bool) -> np.ndarray | None:
    """Correlation (``centre``) / cosine RDM (C, C) of the patterns x (C, P), or None.

    The single-bin case of :func:`_correlation_rdms` in fewer steps; x must be float64
    (C-contiguous is fastest).  None means that some pattern is non-finite, all-zero or (when
    centring) constant: :func:`_correlation_rdms` then recomputes it and raises the right
    error.  All checks look at (C,) vectors only.

    Work: one BLAS syrk product (numpy mirrors its triangle, and its loop without BLAS
    sums ``x_i . x_j`` and ``x_j . x_i`` in the same order, so ``g`` is exactly
    symmetric; the tests check it), one pass over x for the row sums, and a few in-place (C, C) operations,
    each of which maps a symmetric matrix to a symmetric one:
    ``d = 1 - (g - z z^T) * (w w^T)`` with ``z_i = sum_k x_ik / sqrt(P)`` (so that
    ``z_i z_j = P m_i m_j``: the rank-one centring of :func:`_correlation_rdms`, with the
    same fallback to explicit centring when a mean dominates) and
    ``w_i = 1 / ||x_i - m_i||``.
    """
    n_cond, n_feat = x.shape
    g = x @ x.T
    raw = g.diagonal().copy()  # |x_i|^2: inf or NaN for a non-finite pattern
    if centre:
        sums = np.add.reduce(x, axis=1)
        z = sums * (1.0 / math.sqrt(n_feat))
        outer = z[:, None] * z
        g -= outer
        # One test for the usual case: every ratio raw / centred in [1, _MAX_RAW_RATIO],
        # the bound of _correlation_rdms on the rounding of the rank-one centring.  It
        # fails (max propagates NaN) for a NaN, infinite, zero or constant pattern
        # (centred norm <= 0 or rounding residue) and where a mean dominates.  Passing
        # it rules out constant patterns: _constant_up_to_rounding flags
        # centred <= P^2 eps^2 z^2 <= P^2 eps^2 raw, impossible next to
        # centred >= raw / _MAX_RAW_RATIO > 0 for any P below 2^50.
        ratio = raw / g.diagonal()
        if not (ratio.max() <= _MAX_RAW_RATIO and ratio.min() > 0.0):
            if not (raw.min() > 0.0 and raw.max() < np.inf):  # NaN fails both
                return None
            means = sums / n_feat  # as ndarray.mean: _constant_up_to_rounding's bound assumes it
            c = x - means[:, None]
            g = np.matmul(c, c.T, out=g)
            if _constant_up_to_rounding(g.diagonal(), means, n_feat).any():
                return None
    else:
        if not (raw.min() > 0.0 and raw.max() < np.inf):  # NaN fails both
            return None
        outer = np.empty_like(g)
    w = np.sqrt(g.diagonal())
    np.divide(1.0, w, out=w)
    np.multiply(w[:, None], w, out=outer)
    g *= outer
    np.subtract(1.0, g, out=g)
    g.flat[:: n_cond + 1] = 0.0
    return g


def _correlation_rdms(x: np.ndarray, method: str, remove_mean: bool) -> np.ndarray:
    """Correlation / cosine RDMs of unaveraged patterns x (n_time, n_cond, n_feat) -> (n_time, C, C).

    Work per bin: one symmetric product of the raw patterns (one transposing copy first
    when there is a time axis), centred by a rank-one correction, then normalisation by
    the Gram diagonal, all in float64.  Non-finite input shows up as a non-finite Gram
    diagonal, so the input is scanned only in that case (for the error message).  A
    single bin goes to :func:`_correlation_rdm_single`; the code below then only runs
    to find and report its non-finite, all-zero or constant pattern.
    """
    n_time, _, n_feat = x.shape
    centre = method == "correlation" or remove_mean
    if n_time == 1:
        d = _correlation_rdm_single(x[0], centre)
        if d is not None:
            return d[None]
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite values are caught below
        c = x if n_time == 1 else _transposed_copy(x)
        g = (c[0] @ c[0].T)[None] if n_time == 1 else np.matmul(c, c.transpose(0, 2, 1))
        if centre:
            # Centred Gram from the raw one: sum_k (x_ik - m_i)(x_jk - m_j) = g_ij - P m_i m_j.
            # Its rounding error is that of g, i.e. relative to |x_i| |x_j| instead of
            # |x_i - m_i| |x_j - m_j|; while |x_i|^2 <= _MAX_RAW_RATIO |x_i - m_i|^2 that
            # costs at most a factor _MAX_RAW_RATIO (results agree with explicit centring
            # to ~1e-15) and saves a full pass over the data.  Bins with a pattern whose
            # mean dominates (or a constant / non-finite one) are centred explicitly.
            means = c.mean(axis=2)  # (n_time, n_obs)
            raw = np.diagonal(g, axis1=1, axis2=2).copy()
            g -= n_feat * (means[:, :, None] * means[:, None, :])  # m_i m_j first: exactly symmetric
            diag = np.diagonal(g, axis1=1, axis2=2)
            for t in np.flatnonzero(~(_MAX_RAW_RATIO * diag >= raw).all(axis=1)):
                ct = c[t] - means[t][:, None]
                g[t] = ct @ ct.T
            means = means[:, :, None]
    diag = np.diagonal(g, axis1=1, axis2=2)
    if not np.isfinite(diag).all():
        _check_finite(x, "data")
        raise ValueError("data is too large: the pattern norms overflow float64")
    if centre:
        # a constant pattern would give arbitrary values from its rounding residue
        flat = _constant_up_to_rounding(diag, means[:, :, 0], n_feat)
    else:
        flat = diag == 0
    if flat.any():
        what = "a constant pattern" if centre else "an all-zero pattern"
        raise ValueError(f"{method} distance is undefined for {what}")
    norm = np.sqrt(diag)
    # d_ij = 1 - g_ij / (n_i n_j); the batched product need not be exactly symmetric, so
    # the upper triangle (the one rsatoolbox keeps) is mirrored.
    d = np.subtract(1.0, g / (norm[:, :, None] * norm[:, None, :]), out=g)
    return _symmetric_from_upper(d)
