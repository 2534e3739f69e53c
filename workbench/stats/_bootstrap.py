"""Bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np
from scipy import stats as _sps

from .._validation import check_array, check_choice, check_float

__all__ = ["bootstrap_ci"]


def bootstrap_ci(samples: np.ndarray, ci: float = 0.95, method: str = "percentile") -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval from bootstrap samples along axis 0.

    ``"percentile"``: the ``(1-ci)/2`` and ``(1+ci)/2`` quantiles (linear interpolation,
    NumPy's default).  ``"normal"``: ``mean -/+ z * std`` with the sample standard
    deviation (``ddof=1``) and ``z`` the normal quantile.  NaN samples (e.g. bootstrap
    draws where a statistic was undefined) are ignored.

    Parameters
    ----------
    samples : np.ndarray, shape (n_boot, ...)
    ci : float
        Coverage in (0, 1).
    method : {"percentile", "normal"}

    Returns
    -------
    low, high : float or np.ndarray of float64, shape samples.shape[1:]
    """
    samples = check_array(samples, "samples", min_shape=(1,))
    if samples.dtype.kind not in "fiu":
        raise TypeError(f"samples must have a real numeric dtype, got {samples.dtype}")
    if samples.ndim < 1:
        raise ValueError("samples must have at least 1 dimension (n_boot, ...)")
    ci = check_float(ci, "ci", min_value=0.0, strict_min=True, max_value=1.0)
    if ci >= 1.0:
        raise ValueError(f"ci must be < 1, got {ci}")
    method = check_choice(method, "method", ("percentile", "normal"))
    x = samples.astype(np.float64, copy=False)
    if np.isinf(x).any():
        raise ValueError("samples contains infinite values")
    if x.size and np.isnan(x).all(axis=0).any():
        raise ValueError("samples has a column that is all NaN: no interval can be computed for it")
    if method == "percentile":
        low, high = np.nanquantile(x, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    else:
        z = _sps.norm.ppf((1 + ci) / 2)
        mean = np.nanmean(x, axis=0)
        sd = np.nanstd(x, axis=0, ddof=1)
        low, high = mean - z * sd, mean + z * sd
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high
