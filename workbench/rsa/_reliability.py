"""Split-half reliability of RDMs (a data-driven noise ceiling for a single data set)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import check_choice, check_int
from ._compare import check_method, compare
from ._rdm import RDM_METHODS, _unpack, rdm

__all__ = ["spearman_brown", "split_half_reliability"]


def spearman_brown(r, factor: float = 2.0):
    """Spearman-Brown prophecy: reliability of a measure ``factor`` times as long, ``k r / (1 + (k - 1) r)``."""
    r = np.asarray(r, dtype=np.float64)
    return factor * r / (1.0 + (factor - 1.0) * r)


def split_half_reliability(
    data,
    *,
    labels=None,
    split: str = "trials",
    rdm_method: str = "correlation",
    compare_method: str = "spearman",
    n_splits: int = 100,
    seed: int | None = None,
) -> xr.Dataset:
    """Split-half reliability of the RDM of ``data``, with Spearman-Brown correction.

    Each split divides the trials of every condition (``split="trials"``; odd counts drop
    one trial) or the units (``split="units"``) at random into two halves, computes an RDM
    from each half and compares them.  The split-half similarity ``r`` underestimates the
    reliability of the full data; ``2 r / (1 + r)`` (Spearman-Brown) corrects for halving.

    Parameters
    ----------
    data : xarray.DataArray (obs, unit[, time]) or np.ndarray (n_obs, n_feat[, n_time])
    labels : array_like or str, optional
        Condition labels (as in :func:`rdm`); trial splits need >= 2 trials per condition.
    split : {"trials", "units"}
    rdm_method : str
        Non-cross-validated RDM measure (see :func:`rdm`).
    compare_method : str
    n_splits : int
    seed : int, optional

    Returns
    -------
    xarray.Dataset
        ``r`` and ``r_sb`` (split[, time]) per split; ``reliability``: Spearman-Brown of
        the mean ``r`` ([time]); ``r_mean``.
    """
    split = check_choice(split, "split", ("trials", "units"))
    rdm_method = check_choice(rdm_method, "rdm_method", tuple(m for m in RDM_METHODS if m not in ("crossnobis", "cv_euclidean", "mahalanobis")))
    compare_method = check_method(compare_method, "compare_method")
    n_splits = check_int(n_splits, "n_splits", min_value=1)
    x, lab, _, time = _unpack(data, labels, None)
    arr = np.moveaxis(x, 0, 2) if time is not None else x[0]  # back to (obs, feat[, time])
    uniq, inverse = np.unique(lab, return_inverse=True)
    counts = np.bincount(inverse)
    if uniq.size < 3:
        raise ValueError("need at least 3 conditions")
    if split == "trials" and counts.min() < 2:
        raise ValueError("split='trials' needs at least 2 trials per condition")
    if split == "units" and arr.shape[1] < 2:
        raise ValueError("split='units' needs at least 2 units")
    rng = np.random.default_rng(seed)
    half = counts // 2
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rs = []
    for _ in range(n_splits):
        if split == "trials":
            order = np.lexsort((rng.random(inverse.size), inverse))  # shuffled within condition
            pos = np.empty(inverse.size, dtype=np.int64)
            pos[order] = np.arange(inverse.size) - start[inverse[order]]
            in_a = pos < half[inverse]
            in_b = (pos >= half[inverse]) & (pos < 2 * half[inverse])
            ra = rdm(arr[in_a], rdm_method, labels=lab[in_a])
            rb = rdm(arr[in_b], rdm_method, labels=lab[in_b])
        else:
            perm = rng.permutation(arr.shape[1])
            h = arr.shape[1] // 2
            ra = rdm(arr[:, perm[:h]], rdm_method, labels=lab)
            rb = rdm(arr[:, perm[h : 2 * h]], rdm_method, labels=lab)
        rs.append(compare(ra, rb, compare_method)[0, 0])
    r = np.array(rs)
    dims = ("split", "time") if time is not None else ("split",)
    ds = xr.Dataset({"r": (dims, r), "r_sb": (dims, spearman_brown(r))})
    ds["r_mean"] = (dims[1:], r.mean(axis=0))
    ds["reliability"] = (dims[1:], spearman_brown(r.mean(axis=0)))
    if time is not None:
        ds = ds.assign_coords(time=time[1])
    ds.attrs.update(split=split, rdm_method=rdm_method, compare_method=compare_method)
    return ds
