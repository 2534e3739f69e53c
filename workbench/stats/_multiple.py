"""Multiple-comparison correction (false discovery rate)."""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_choice, check_float

__all__ = ["fdr_correction"]


def fdr_correction(p: np.ndarray, alpha: float = 0.05, method: str = "bh") -> tuple[np.ndarray, np.ndarray]:
    """False-discovery-rate correction of a set of p-values.

    Benjamini & Hochberg (1995) step-up procedure (``"bh"``, valid under independence
    or positive dependence) or the Benjamini & Yekutieli (2001) variant (``"by"``,
    valid under arbitrary dependence; the BH q-values times ``sum_{i=1}^m 1/i``).
    The q-value of the i-th smallest of ``m`` p-values is
    ``min_{j >= i} min(1, c(m) * m * p_(j) / j)``.

    Parameters
    ----------
    p : np.ndarray, any shape, float
        p-values in [0, 1].  All entries form one family (the array is flattened for
        the correction and the shape restored afterwards).
    alpha : float
        FDR level in (0, 1).
    method : {"bh", "by"}

    Returns
    -------
    reject : np.ndarray of bool, same shape as ``p``
        ``q <= alpha``.
    q : np.ndarray of float64, same shape as ``p``
        FDR-adjusted p-values.
    """
    p = check_array(p, "p")
    if p.dtype.kind not in "fiu":
        raise TypeError(f"p must have a real numeric dtype, got {p.dtype}")
    alpha = check_float(alpha, "alpha", min_value=0.0, strict_min=True, max_value=1.0)
    method = check_choice(method, "method", ("bh", "by"))
    flat = p.astype(np.float64, copy=False).ravel()
    if np.isnan(flat).any():
        raise ValueError("p contains NaN values; remove untested entries before FDR correction")
    if flat.size and (flat.min() < 0.0 or flat.max() > 1.0):
        raise ValueError("p values must lie in [0, 1]")
    m = flat.size
    if m == 0:
        return np.zeros(p.shape, dtype=bool), np.zeros(p.shape, dtype=np.float64)
    order = np.argsort(flat, kind="stable")
    ranks = np.arange(1, m + 1, dtype=np.float64)
    scale = m / ranks
    if method == "by":
        scale = scale * np.sum(1.0 / ranks)
    q_sorted = flat[order] * scale
    # Step-up: the q-value is the running minimum taken from the largest p downwards.
    q_sorted = np.minimum.accumulate(q_sorted[::-1])[::-1]
    np.minimum(q_sorted, 1.0, out=q_sorted)
    q = np.empty(m, dtype=np.float64)
    q[order] = q_sorted
    q = q.reshape(p.shape)
    return q <= alpha, q
