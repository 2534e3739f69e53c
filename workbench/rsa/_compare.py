"""Comparison of RDMs (many-vs-many, batched over condensed upper triangles).

Each measure follows rsatoolbox 0.3.2 (``rsatoolbox.rdm.compare``); our names map to
rsatoolbox's as pearson -> "corr", kendall_tau_a -> "tau-a", kendall_tau_b -> "tau-b",
rho_a -> "rho-a"; those rsatoolbox spellings are accepted as aliases.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import stats as _sps

from .._validation import check_array, check_choice

__all__ = ["COMPARE_METHODS", "compare"]

COMPARE_METHODS = ("pearson", "spearman", "kendall_tau_a", "kendall_tau_b", "rho_a", "cosine", "corr_cov", "cosine_cov")
# rsatoolbox's names of the same measures (its "kendall" is left out: ambiguous between tau-a and tau-b)
_ALIASES = {"corr": "pearson", "tau-a": "kendall_tau_a", "tau-b": "kendall_tau_b", "rho-a": "rho_a"}


def check_method(method, name: str = "method") -> str:
    """Canonical comparison method name (rsatoolbox aliases mapped), or ValueError naming ``name``."""
    if isinstance(method, str):
        method = _ALIASES.get(method, method)
    return check_choice(method, name, COMPARE_METHODS)


def _n_cond(n_pairs: int) -> int:
    n = (1 + math.isqrt(1 + 8 * n_pairs)) // 2
    if n * (n - 1) // 2 != n_pairs:
        raise ValueError(f"an RDM vector of length {n_pairs} is not n*(n-1)/2 long")
    return n


def _cosine(a: np.ndarray, b: np.ndarray, paired: bool) -> np.ndarray:
    """Cosine of rows; 0 where a row has zero norm (as rsatoolbox)."""
    na = np.sqrt(np.einsum("ij,ij->i", a, a))
    nb = np.sqrt(np.einsum("ij,ij->i", b, b))
    na = np.where(na > 0, na, np.inf)
    nb = np.where(nb > 0, nb, np.inf)
    if paired:
        return np.einsum("ij,ij->i", a, b) / na / nb
    return (a @ b.T) / na[:, None] / nb[None, :]


# Relative norm below which a centred vector counts as constant.  sqrt(machine eps) scale:
# the bootstrap's closed form computes variances as differences of sums of squares,
# whose rounding residue is ~eps relative, i.e. ~1e-8 relative in norm.
_FLAT = 1e-7


def _centre(v: np.ndarray) -> np.ndarray:
    """Rows minus their mean; rows that are constant up to rounding become exactly 0.

    A constant RDM has zero variance and similarity 0 by rsatoolbox's convention; without
    the tolerance, rounding residue of the mean would give an arbitrary correlation.
    """
    c = v - v.mean(axis=1, keepdims=True)
    flat = np.sqrt(np.einsum("ij,ij->i", c, c)) <= _FLAT * np.sqrt(np.einsum("ij,ij->i", v, v))
    if flat.any():
        c[flat] = 0.0
    return c


def _double_centred(v: np.ndarray) -> np.ndarray:
    """Flattened double-centred second moments H (-D/2) H of condensed RDMs (n, P) -> (n, C*C).

    rsatoolbox's whitened comparisons without a pattern covariance ("corr_cov",
    "cosine_cov") are the Frobenius cosine of these matrices (linear CKA).
    """
    n = _n_cond(v.shape[1])
    d = np.zeros((v.shape[0], n, n))
    iu = np.triu_indices(n, 1)
    d[:, iu[0], iu[1]] = v
    d[:, iu[1], iu[0]] = v
    row = d.mean(axis=2, keepdims=True)
    g = -0.5 * (d - row - np.swapaxes(row, 1, 2) + row.mean(axis=1, keepdims=True))
    return g.reshape(v.shape[0], -1)


def _cov_project(v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Whitening of condensed RDMs with missing (NaN) entries, as rsatoolbox's ``_cov_weighting``.

    ``v`` (n, n_valid) holds the valid entries of vectors whose full condensed length is
    ``mask.size`` (``mask`` True where valid).  The second-moment vector ``g = -v/2`` (with
    a zero diagonal appended) has its row/column effects removed as
    ``g - D X (X^T D X)^-1 X^T g``, with X the (pair or diagonal entry) x condition
    indicator matrix and D the weights 1/2 per off-diagonal and 1 per diagonal entry; then
    the off-diagonal part is scaled by sqrt(2).  With no missing entry this equals double
    centring.  X is never formed: its products are bincounts and ``X^T D X`` is
    ``(A + diag(deg)) / 2 + I`` with A the adjacency of the kept pairs.
    Returns (n, n_valid + n_cond); the cosine of these rows is the whitened similarity.
    """
    n_c = _n_cond(mask.size)
    iu = np.triu_indices(n_c, 1)
    vi, vj = iu[0][mask], iu[1][mask]
    n_valid = vi.size
    adj = np.zeros((n_c, n_c))
    adj[vi, vj] = 1.0
    adj[vj, vi] = 1.0
    gram = 0.5 * (adj + np.diag(adj.sum(axis=1))) + np.eye(n_c)  # X^T D X
    vw = -0.5 * v
    xtv = np.stack([np.bincount(vi, weights=row, minlength=n_c) + np.bincount(vj, weights=row, minlength=n_c) for row in vw])
    coef = np.linalg.solve(gram, xtv.T).T  # (n, C)
    out = np.empty((v.shape[0], n_valid + n_c))
    out[:, :n_valid] = (vw - 0.5 * (coef[:, vi] + coef[:, vj])) * np.sqrt(2.0)
    out[:, n_valid:] = -coef
    return out


def _tau_a(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-a = (concordant - discordant) / (n (n-1) / 2).

    Derived from scipy's O(n log n) tau-b: tau_a = tau_b * sqrt((n0 - n1)(n0 - n2)) / n0
    with n1, n2 the pairs tied in x, y.
    """
    n = x.size
    n0 = n * (n - 1) / 2
    if n0 == 0:
        return np.nan

    def ties(v):
        _, cnt = np.unique(v, return_counts=True)
        return float(np.sum(cnt * (cnt - 1) / 2))

    n1, n2 = ties(x), ties(y)
    if n1 == n0 or n2 == n0:
        return 0.0  # one vector is constant: every pair is tied, C - D = 0
    tau_b = _sps.kendalltau(x, y, variant="b").statistic
    return float(min(1.0, max(-1.0, tau_b * np.sqrt((n0 - n1) * (n0 - n2)) / n0)))


def _tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)) (scipy's ``kendalltau``, variant "b").

    n0 = n(n-1)/2 pairs, n1 / n2 the pairs tied in x / y.  A constant vector has no
    untied pair; its similarity is 0 (our convention for every measure; scipy and
    rsatoolbox return NaN there).
    """
    if x.min() == x.max() or y.min() == y.max():
        return 0.0
    tau = _sps.kendalltau(x, y, variant="b").statistic
    return float(min(1.0, max(-1.0, tau)))


def _similarity(a: np.ndarray, b: np.ndarray, method: str, paired: bool = False, mask: np.ndarray | None = None) -> np.ndarray:
    """Similarity of condensed RDM rows without NaNs: (n_a, P) x (n_b, P) -> (n_a, n_b).

    With ``paired`` the rows are compared one-to-one: (n, P) x (n, P) -> (n,).
    ``mask`` (full condensed length, True = kept) tells the ``*_cov`` methods which
    entries of the full RDMs the P given columns are, when some were dropped.
    """
    if method == "cosine":
        return _cosine(a, b, paired)
    if method == "pearson":
        return _cosine(_centre(a), _centre(b), paired)
    if method in ("spearman", "rho_a"):
        ra = _sps.rankdata(a, axis=1)
        rb = _sps.rankdata(b, axis=1)
        ra -= ra.mean(1, keepdims=True)
        rb -= rb.mean(1, keepdims=True)
        if method == "spearman":
            return _cosine(ra, rb, paired)
        n = a.shape[1]
        cross = np.einsum("ij,ij->i", ra, rb) if paired else ra @ rb.T
        return cross / (n**3 - n) * 12
    if method in ("corr_cov", "cosine_cov"):
        if method == "corr_cov":
            a = a - a.mean(1, keepdims=True)
            b = b - b.mean(1, keepdims=True)
        if mask is not None and not mask.all():
            return _cosine(_cov_project(a, mask), _cov_project(b, mask), paired)
        return _cosine(_double_centred(a), _double_centred(b), paired)
    # Kendall's tau: no vectorised form; O(P log P) per pair.
    tau = _tau_a if method == "kendall_tau_a" else _tau_b
    if paired:
        return np.array([tau(x, y) for x, y in zip(a, b)])
    return np.array([[tau(x, y) for y in b] for x in a]).reshape(a.shape[0], b.shape[0])


def _as_vectors(x, name: str):
    """RDM input -> (vectors (n, P) or (n, T, P), condition labels or None, time coord or None)."""
    labels = time = None
    if isinstance(x, xr.DataArray):
        if "condition" in x.dims and "condition_b" in x.dims:
            labels = x["condition"].values if "condition" in x.coords else None
            rest = [d for d in x.dims if d not in ("condition", "condition_b", "time")]
            if len(rest) > 1:
                raise ValueError(f"{name} may have at most one dim besides condition, condition_b and time, got {x.dims}")
            has_time = "time" in x.dims
            x_arr = x.transpose(*rest, *(["time"] if has_time else []), "condition", "condition_b").values
            if has_time:
                time = x["time"].values if "time" in x.coords else np.arange(x.sizes["time"])
            if not rest:
                x_arr = x_arr[None]
            n = x_arr.shape[-1]
            iu = np.triu_indices(n, 1)
            vec = x_arr[..., iu[0], iu[1]]
        else:
            vec = x.values
            if vec.ndim == 1:
                vec = vec[None]
            if vec.ndim != 2:
                raise ValueError(f"{name} without condition dims must be condensed vectors (n, n_pairs), got dims {x.dims}")
    else:
        arr = check_array(x, name, ndim=(1, 2, 3))
        if arr.ndim == 1:
            vec = arr[None]
        elif arr.ndim == 2 and arr.shape[0] == arr.shape[1] and arr.shape[0] > 1:
            iu = np.triu_indices(arr.shape[0], 1)
            vec = arr[None, iu[0], iu[1]]
        elif arr.ndim == 2:
            vec = arr
        else:
            if arr.shape[1] != arr.shape[2]:
                raise ValueError(f"{name} with 3 dims must be square RDMs (n, n_cond, n_cond), got {arr.shape}")
            iu = np.triu_indices(arr.shape[1], 1)
            vec = arr[:, iu[0], iu[1]]
    if vec.dtype.kind not in "fiu":
        raise TypeError(f"{name} must have a real numeric dtype, got {vec.dtype}")
    vec = np.asarray(vec, dtype=np.float64)
    if np.isinf(vec).any():
        raise ValueError(f"{name} contains infinite values")
    if vec.shape[-1] < 2:
        raise ValueError(f"{name} must have at least 2 dissimilarities (3 conditions), got {vec.shape[-1]}")
    return vec, labels, time


def _nan_mask(va: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """Columns kept: those not NaN; NaN positions must agree (as rsatoolbox requires)."""
    keep_a = ~np.isnan(va).reshape(-1, va.shape[-1]).any(0)
    keep_b = ~np.isnan(vb).reshape(-1, vb.shape[-1]).any(0)
    if not np.array_equal(keep_a, keep_b):
        raise ValueError("rdm_a and rdm_b have NaNs at different positions")
    if keep_a.sum() < 2:
        raise ValueError("fewer than 2 dissimilarities left after removing NaNs")
    return keep_a


def compare(rdm_a, rdm_b, method: str = "pearson") -> np.ndarray:
    """Similarity of every RDM in ``rdm_a`` with every RDM in ``rdm_b``.

    - ``"pearson"``: Pearson correlation of the condensed vectors.
    - ``"spearman"``: Pearson correlation of their ranks (ties averaged).
    - ``"rho_a"``: ``12 sum(r_a - mean)(r_b - mean) / (n^3 - n)`` (Spearman without tie
      correction of the denominator; Nili et al. 2014).
    - ``"kendall_tau_a"``: ``(concordant - discordant) / (n (n - 1) / 2)``.
    - ``"kendall_tau_b"``: ``(concordant - discordant) / sqrt((n0 - n1)(n0 - n2))`` with
      ``n0 = n (n - 1) / 2`` and ``n1``, ``n2`` the pairs tied in either vector (the
      usual Kendall tau, ``scipy.stats.kendalltau``); rsatoolbox's "tau-b".
    - ``"cosine"``: cosine of the vectors.
    - ``"corr_cov"`` / ``"cosine_cov"``: the whitened Pearson / cosine of Diedrichsen
      et al. (2021) with i.i.d. pattern noise, i.e. the Frobenius cosine of the
      double-centred second-moment matrices ``H (-D/2) H`` (after subtracting the
      vector mean for ``"corr_cov"``).

    A zero-variance vector gives similarity 0 (rsatoolbox's convention).  NaN entries
    (e.g. pairs of duplicated conditions after a bootstrap) are dropped; they must sit
    at the same positions in all RDMs (the ``*_cov`` methods then whiten by weighted
    least squares, as rsatoolbox does).

    Parameters
    ----------
    rdm_a, rdm_b : xarray.DataArray or np.ndarray
        RDM(s): a DataArray from :func:`workbench.rsa.rdm` (dims ("condition",
        "condition_b"[, "time"]), optionally one extra leading dim such as "model"),
        a square array (n_cond, n_cond), a stack (n, n_cond, n_cond), a condensed vector
        (n_pairs,) or a stack of them (n, n_pairs).  A 2-D square array is read as one RDM.
    method : str
        One of :data:`COMPARE_METHODS`, or rsatoolbox's name of one ("corr", "tau-a",
        "tau-b", "rho-a").

    Returns
    -------
    np.ndarray, shape (n_a, n_b), or (n_a, n_b, n_time) when either input has a time dim
        (time bins are matched; an RDM without time is compared with every bin).
    """
    method = check_method(method)
    va, la, ta = _as_vectors(rdm_a, "rdm_a")
    vb, lb, tb = _as_vectors(rdm_b, "rdm_b")
    if va.shape[-1] != vb.shape[-1]:
        raise ValueError(f"rdm_a and rdm_b have different numbers of dissimilarities ({va.shape[-1]} vs {vb.shape[-1]})")
    if la is not None and lb is not None and not np.array_equal(la, lb):
        raise ValueError("rdm_a and rdm_b have different condition labels")
    keep = _nan_mask(va, vb)
    if not keep.all():
        va, vb = va[..., keep], vb[..., keep]
    if ta is None and tb is None:
        return _similarity(va, vb, method, mask=keep)
    if ta is not None and tb is not None and va.shape[1] != vb.shape[1]:
        raise ValueError("rdm_a and rdm_b have different numbers of time bins")
    n_time = va.shape[1] if ta is not None else vb.shape[1]
    out = np.empty((va.shape[0], vb.shape[0], n_time))
    for t in range(n_time):  # one batched comparison per bin
        out[:, :, t] = _similarity(va[:, t] if ta is not None else va, vb[:, t] if tb is not None else vb, method, mask=keep)
    return out
