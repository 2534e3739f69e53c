"""Permutation p-values and cluster-mass permutation tests."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._validation import check_array, check_choice, check_float

__all__ = ["cluster_permutation", "permutation_pvalue"]

_TAILS = ("greater", "less", "two-sided")


def _real_array(x, name: str) -> np.ndarray:
    x = np.asarray(x) if np.isscalar(x) else x
    x = check_array(x, name, finite=True)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must have a real numeric dtype, got {x.dtype}")
    return x.astype(np.float64, copy=False)


def permutation_pvalue(observed, null: np.ndarray, tail: str = "greater") -> np.ndarray | float:
    """p-value of an observed statistic against a permutation (or bootstrap) null.

    ``p = (count + 1) / (n_perm + 1)`` (Phipson & Smyth 2010), where ``count`` is the
    number of null values at least as extreme as the observed one: ``null >= obs``
    (``"greater"``), ``null <= obs`` (``"less"``) or ``|null| >= |obs|``
    (``"two-sided"``, for statistics centred on zero under the null).

    Parameters
    ----------
    observed : float or np.ndarray, shape S
        Observed statistic(s).
    null : np.ndarray, shape (n_perm, *S')
        Null samples; ``S'`` must broadcast against ``S``.
    tail : {"greater", "less", "two-sided"}

    Returns
    -------
    p : float or np.ndarray of float64, shape ``broadcast(S, S')``
    """
    scalar = np.isscalar(observed)
    obs = _real_array(observed, "observed")
    null = _real_array(null, "null")
    tail = check_choice(tail, "tail", _TAILS)
    if null.ndim < 1 or null.shape[0] < 1:
        raise ValueError(f"null must have shape (n_perm, ...) with n_perm >= 1, got {null.shape}")
    try:
        np.broadcast_shapes(obs.shape, null.shape[1:])
    except ValueError:
        raise ValueError(f"null.shape[1:] {null.shape[1:]} does not broadcast against observed shape {obs.shape}") from None
    obs = obs[np.newaxis]  # broadcast against null's sample shape, not its permutation axis
    if tail == "greater":
        count = np.sum(null >= obs, axis=0)
    elif tail == "less":
        count = np.sum(null <= obs, axis=0)
    else:
        count = np.sum(np.abs(null) >= np.abs(obs), axis=0)
    p = (count + 1.0) / (null.shape[0] + 1.0)
    if scalar and np.ndim(p) == 0:
        return float(p)
    return np.asarray(p, dtype=np.float64)


def _label_clusters(stat: np.ndarray, threshold: float, tail: str, structure: np.ndarray):
    """Label supra-threshold clusters of ``stat`` (leading axes are independent maps).

    Returns the label array (0 = no cluster) and the mass of every label (index 0 unused),
    where the mass is the summed statistic (``"greater"``), the summed negated statistic
    (``"less"``) or the absolute sum (``"two-sided"``, positive and negative clusters are
    separate).
    """
    if tail == "greater":
        labels, n = ndimage.label(stat > threshold, structure=structure)
        mass = ndimage.sum_labels(stat, labels, np.arange(n + 1)) if n else np.zeros(1)
        return labels, np.asarray(mass, dtype=np.float64)
    if tail == "less":
        labels, n = ndimage.label(stat < threshold, structure=structure)
        mass = -ndimage.sum_labels(stat, labels, np.arange(n + 1)) if n else np.zeros(1)
        return labels, np.asarray(mass, dtype=np.float64)
    pos, n_pos = ndimage.label(stat > threshold, structure=structure)
    neg, n_neg = ndimage.label(stat < -threshold, structure=structure)
    labels = pos + np.where(neg > 0, neg + n_pos, 0)
    n = n_pos + n_neg
    mass = np.abs(ndimage.sum_labels(stat, labels, np.arange(n + 1))) if n else np.zeros(1)
    return labels, np.asarray(mass, dtype=np.float64)


def cluster_permutation(
    observed: np.ndarray, null: np.ndarray, threshold: float, tail: str = "greater"
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-mass permutation test over time (1-D) or a time x time map (2-D).

    Points whose statistic exceeds ``threshold`` are grouped into clusters (contiguous
    runs in 1-D; 4-connected regions in 2-D, as in temporal generalisation matrices).
    A cluster's mass is the sum of the statistic over its points (Maris & Oostenveld
    2007).  The null distribution is the maximum cluster mass of each null map (0 when a
    map has no cluster), which controls the family-wise error over the whole map; a
    cluster's p-value is ``(#{null max >= mass} + 1) / (n_perm + 1)``.

    Parameters
    ----------
    observed : np.ndarray, shape (n_time,) or (n1, n2)
        Observed statistic map.
    null : np.ndarray, shape (n_perm, *observed.shape)
        Statistic maps under the null (e.g. from label permutations).
    threshold : float
        Cluster-forming threshold, in units of the statistic.  ``"greater"``: points with
        ``stat > threshold``; ``"less"``: ``stat < threshold``; ``"two-sided"``:
        ``|stat| > threshold`` (threshold must be >= 0), positive and negative clusters
        are formed separately and their absolute mass is used.
    tail : {"greater", "less", "two-sided"}

    Returns
    -------
    clusters : np.ndarray of int64, shape observed.shape
        Cluster label of each point, 1..n_clusters, 0 outside any cluster.
    p_values : np.ndarray of float64, shape observed.shape
        p-value of the cluster each point belongs to; 1.0 outside clusters.
    """
    obs = _real_array(observed, "observed")
    null = _real_array(null, "null")
    if obs.ndim not in (1, 2):
        raise ValueError(f"observed must have 1 or 2 dimensions, got shape {obs.shape}")
    if null.ndim != obs.ndim + 1 or null.shape[1:] != obs.shape or null.shape[0] < 1:
        raise ValueError(f"null must have shape (n_perm, *{obs.shape}), got {null.shape}")
    threshold = check_float(threshold, "threshold")
    tail = check_choice(tail, "tail", _TAILS)
    if tail == "two-sided" and threshold < 0:
        raise ValueError(f"threshold must be >= 0 for a two-sided test, got {threshold}")
    base = ndimage.generate_binary_structure(obs.ndim, 1)  # 4-connectivity in 2-D
    labels, mass = _label_clusters(obs, threshold, tail, base)

    # Label all null maps in one call: a structure that is empty along the permutation
    # axis keeps clusters from joining across maps.
    stacked = np.zeros((3,) + base.shape, dtype=bool)
    stacked[1] = base
    null_labels, null_mass = _label_clusters(null, threshold, tail, stacked)
    max_mass = np.zeros(null.shape[0], dtype=np.float64)
    flat = null_labels.reshape(null.shape[0], -1)
    perm_of_label = np.zeros(null_mass.size, dtype=np.int64)
    rows, cols = np.nonzero(flat)
    perm_of_label[flat[rows, cols]] = rows
    if null_mass.size > 1:
        np.maximum.at(max_mass, perm_of_label[1:], null_mass[1:])

    cluster_p = (np.sum(max_mass[None, :] >= mass[1:, None], axis=1) + 1.0) / (null.shape[0] + 1.0)
    p_values = np.ones(obs.shape, dtype=np.float64)
    inside = labels > 0
    p_values[inside] = cluster_p[labels[inside] - 1]
    return labels.astype(np.int64), p_values
