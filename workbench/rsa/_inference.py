"""Model evaluation: bootstrap over conditions and/or subjects, noise ceilings, tests.

Definitions follow rsatoolbox 0.3.2 (``rsatoolbox.inference``): the noise ceiling is
``boot_noise_ceiling`` (upper bound: each subject vs the pooled RDM of all subjects;
lower bound: each subject vs the pooled RDM of the others), bootstrap samples over
conditions drop the pairs of identical resampled conditions (``subsample_pattern``) and
samples with fewer than 3 distinct conditions are invalid (NaN), and pairwise model
tests use ``bootstrap_pair_tests``.  Bootstrap indices are drawn in bulk.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats as _sps

from .._validation import check_choice, check_float, check_int
from ..stats import (
    bootstrap_ci,
    cluster_permutation,
    fdr_correction,
    permutation_pvalue,
)
from ._compare import _FLAT, _as_vectors, _centre, _n_cond, _similarity, check_method
from ._fastboot import FAST_METHODS, fast_bootstrap

__all__ = ["dual_bootstrap_variances", "evaluate", "noise_ceiling", "permutation_test", "rsa_over_time"]

_BOOTSTRAPS = ("conditions", "subjects", "both", "dual", None)


# ----------------------------------------------------------------------------- pooling
def _pool_rows(v: np.ndarray, method: str) -> np.ndarray:
    """Per-subject normalisation whose mean is rsatoolbox's ``pool_rdm`` for ``method``."""
    # A constant (pearson) or zero (cosine) subject RDM cannot be normalised: the pooled
    # RDM, hence the ceiling, is undefined (NaN), as in rsatoolbox.
    if method in ("pearson", "corr_cov"):
        c = _centre(v)
        sd = c.std(axis=1, keepdims=True)
        return c / np.where(sd > 0, sd, np.nan)
    if method in ("cosine", "cosine_cov"):
        rms = np.sqrt(np.mean(v * v, axis=1, keepdims=True))
        return v / np.where(rms > 0, rms, np.nan)
    return _sps.rankdata(v, axis=1)  # rank-based methods pool mean ranks


def _finish_pool(pooled: np.ndarray, method: str) -> np.ndarray:
    if method in ("pearson", "corr_cov"):
        pooled = pooled - pooled.min(axis=-1, keepdims=True)  # rsatoolbox's shift (no effect on r)
    return pooled


def _not_flat(pooled: np.ndarray, method: str) -> np.ndarray:
    """0 for pooled RDMs that vanish up to rounding (normalised subjects cancelling), else 1.

    The pooled RDM is a mean of unit-variance (unit-RMS) rows; when its spread is below
    ``_FLAT`` it is rounding residue and its similarity is defined as 0 (the value for a
    constant RDM), so that the result does not depend on summation order.
    """
    if method in ("pearson", "corr_cov"):
        spread = pooled.std(axis=1)
    elif method in ("cosine", "cosine_cov"):
        spread = np.sqrt(np.mean(pooled * pooled, axis=1))
    else:
        return np.ones(pooled.shape[0])  # mean ranks are exact
    return np.where(spread > _FLAT, 1.0, 0.0)


def _ceiling_vectors(x: np.ndarray, groups: np.ndarray, method: str, mask: np.ndarray | None = None) -> tuple[float, float]:
    """Noise ceiling (lower, upper) of RDMs ``x`` (n, P) grouped by ``groups`` (n,).

    A group (a subject with several sessions, or copies drawn by a subject bootstrap) is
    left out as a whole; its similarity is the mean over its rows and each group counts
    once in the average, as in rsatoolbox's ``boot_noise_ceiling``.
    """
    z = _pool_rows(x, method)
    uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    n = x.shape[0]
    total = z.sum(axis=0)

    def group_mean(per_row):
        return float(np.mean(np.bincount(inv, weights=per_row) / counts))

    upper_pool = total[None] / n
    upper = _similarity(_finish_pool(upper_pool, method), x, method, mask=mask)[0] * _not_flat(upper_pool, method)
    if uniq.size == 1:
        return group_mean(upper), group_mean(upper)
    # Leave-one-group-out pools in closed form from the total: (sum - sum_g z) / (n - n_g).
    zsum = np.zeros((uniq.size, z.shape[1]))
    np.add.at(zsum, inv, z)
    loo = (total[None] - zsum) / (n - counts)[:, None]
    lower = _similarity(_finish_pool(loo, method)[inv], x, method, paired=True, mask=mask) * _not_flat(loo, method)[inv]
    return group_mean(lower), group_mean(upper)


def _pair_map(n: int) -> np.ndarray:
    """(n, n) matrix of condensed indices of (i, j), i < j (and mirrored)."""
    m = np.full((n, n), -1, dtype=np.int64)
    iu = np.triu_indices(n, 1)
    m[iu] = np.arange(iu[0].size)
    m[iu[1], iu[0]] = m[iu]
    return m


def _bootstrap_from_indices(models, data, method, rdm_idx, pattern_idx, groups=None):
    """Evaluations (B, n_models) and noise ceilings (B, 2) for given bootstrap indices.

    ``rdm_idx`` (B, n_groups) draws groups of RDMs (``groups`` (n_rdm,) holds each RDM's
    group id 0..n_groups-1; default one group per RDM) and ``pattern_idx`` (B, n_cond)
    draws conditions; either may be None (not resampled).  Every resampled RDM is built
    explicitly.  Exposed for exact comparison with rsatoolbox, whose draws can be replayed.
    """
    n_s, n_pairs = data.shape
    if groups is None:
        groups = np.arange(n_s)
    members = [np.flatnonzero(groups == g) for g in range(groups.max() + 1)]
    n_c = _n_cond(n_pairs)
    n_b = (rdm_idx if rdm_idx is not None else pattern_idx).shape[0]
    evals = np.full((n_b, models.shape[0]), np.nan)
    ceil = np.full((n_b, 2), np.nan)
    iu = np.triu_indices(n_c, 1)
    pmap = _pair_map(n_c)
    all_rows = np.arange(n_s)
    for b in range(n_b):
        rows = np.concatenate([members[g] for g in np.sort(rdm_idx[b])]) if rdm_idx is not None else all_rows
        if pattern_idx is not None:
            sel = np.sort(pattern_idx[b])
            if np.unique(sel).size < 3:
                continue
            a, c = sel[iu[0]], sel[iu[1]]
            ok = a != c  # pairs of a condition with its own copy are dropped
            cols = pmap[a[ok], c[ok]]
            x = data[np.ix_(rows, cols)]
            m = models[:, cols]
            mask = ok  # kept pairs of the resampled RDM (the *_cov methods need them)
        else:
            x = data[rows]
            m = models
            mask = None
        evals[b] = _similarity(m, x, method, mask=mask).mean(axis=1)
        ceil[b] = _ceiling_vectors(x, groups[rows], method, mask=mask)
    return evals, ceil


def _named_vectors(x, name: str, dim_default: str):
    vec, labels, time = _as_vectors(x, name)
    if time is not None:
        raise ValueError(f"{name} has a time dim; use rsa_over_time for time-resolved RSA")
    names = None
    if isinstance(x, xr.DataArray):
        rest = [d for d in x.dims if d not in ("condition", "condition_b")]
        if rest and rest[0] in x.coords:
            names = np.asarray(x[rest[0]].values)
    if names is None:
        names = np.array([f"{dim_default}{i}" for i in range(vec.shape[0])])
    if np.isnan(vec).any():
        raise ValueError(f"{name} contains NaN dissimilarities")
    return vec, labels, names


def _group_ids(groups, data_rdms, n: int) -> np.ndarray:
    """Group id 0..n_groups-1 of each data RDM (default: one group per RDM)."""
    if groups is None:
        return np.arange(n)
    if isinstance(groups, str):
        if not isinstance(data_rdms, xr.DataArray) or groups not in data_rdms.coords:
            raise ValueError(f"groups coordinate {groups!r} not found on data_rdms")
        groups = data_rdms[groups].values
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {groups.shape}")
    return np.unique(groups, return_inverse=True)[1].reshape(n)


def noise_ceiling(data_rdms, method: str = "pearson", *, groups=None) -> tuple[float, float]:
    """Leave-one-subject-out noise ceiling of a set of subject RDMs (rsatoolbox's ``boot_noise_ceiling``).

    Upper bound: mean similarity of each subject's RDM with the pooled RDM of all
    subjects; lower bound: with the pooled RDM of the other subjects.  The pooled RDM is
    the best-fitting RDM for ``method``: the mean of z-scored (pearson, corr_cov),
    RMS-normalised (cosine, cosine_cov) or rank-transformed (rank methods) RDMs.

    Parameters
    ----------
    data_rdms : np.ndarray (n_rdms, n_pairs) or (n_rdms, n_cond, n_cond), or DataArray
    method : str
        One of :data:`~workbench.rsa.COMPARE_METHODS`.
    groups : array_like (n_rdms,) or str, optional
        Group (e.g. subject) of each RDM, or the name of a coordinate of ``data_rdms``;
        RDMs of one group (e.g. sessions) are left out together and averaged.  Default:
        every RDM is its own group.

    Returns
    -------
    (lower, upper) : tuple of float
    """
    method = check_method(method)
    vec, _, _ = _named_vectors(data_rdms, "data_rdms", "subject")
    return _ceiling_vectors(vec, _group_ids(groups, data_rdms, vec.shape[0]), method)


def _pair_tests_bootstrap(evals: np.ndarray) -> np.ndarray:
    """rsatoolbox's ``bootstrap_pair_tests``: two-sided bootstrap p for model differences."""
    n = evals.shape[0]
    less = (evals[:, :, None] < evals[:, None, :]).sum(axis=0)
    equal = (evals[:, :, None] == evals[:, None, :]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = less / (n - equal)
    prop = np.where(np.isfinite(prop), prop, 0.5)  # all samples tied: no evidence
    prop = np.minimum(prop, 1 - prop) * 2
    prop = (n - 1) / n * prop + 1 / n
    np.fill_diagonal(prop, 1.0)
    return prop


def _bootstrap(models, data, method, rdm_idx, pattern_idx, groups):
    """Bootstrap evaluations and noise ceilings, by the closed form where there is one."""
    if method in FAST_METHODS:
        return fast_bootstrap(models, data, method, rdm_idx, pattern_idx, groups)
    return _bootstrap_from_indices(models, data, method, rdm_idx, pattern_idx, groups)


def _dual_correction(v: np.ndarray, n_rdm: int, n_pattern: int) -> np.ndarray:
    """Corrected variance from variances ``v`` (3, ...) of the bootstraps over both factors,
    subjects only and conditions only (Schuett et al. 2023, eLife 12:e82566).

    With a = n_r/(n_r-1) v_subjects and b = n_p/(n_p-1) v_conditions (each one-factor
    bootstrap variance made unbiased), the bootstrap over both counts the subject x
    condition interaction three times instead of once, which the last term removes:
    ``a + b - n_r n_p / ((n_r-1)(n_p-1)) (v_both - v_subjects - v_conditions)``
    (large-sample form: ``2 (v_subjects + v_conditions) - v_both``).  Clipped to at least
    max(a, b) and at most v_both, as rsatoolbox 0.3.2 does.
    """
    both, subj, cond = v
    a = n_rdm / (n_rdm - 1) * subj
    b = n_pattern / (n_pattern - 1) * cond
    out = a + b - n_rdm * n_pattern / ((n_rdm - 1) * (n_pattern - 1)) * (both - subj - cond)
    return np.minimum(np.maximum(np.maximum(out, a), b), both)


def dual_bootstrap_variances(samples, n_rdm: int, n_pattern: int):
    """Dual-bootstrap variances of model evaluations, their differences and their distance to the noise ceiling.

    Parameters
    ----------
    samples : sequence of 3 np.ndarray, each (n_samples, n_models + 2)
        Bootstrap evaluations of the models followed by the lower and upper noise
        ceiling, for the bootstrap over subjects and conditions, subjects only and
        conditions only (the same draws), valid samples only.
    n_rdm, n_pattern : int
        Numbers of subjects (groups) and conditions.

    Returns
    -------
    model_var : np.ndarray (n_models,)
    diff_var : np.ndarray (n_models, n_models)
        Variance of each pairwise difference of evaluations (zero diagonal).
    nc_var : np.ndarray (n_models, 2)
        Variance of (evaluation - lower bound) and (evaluation - upper bound).
    """
    cov = np.stack([np.cov(x, rowvar=False, ddof=1) for x in samples])  # (3, K, K)
    n_m = cov.shape[1] - 2
    d = np.diagonal(cov, axis1=1, axis2=2)
    var_m = d[:, :n_m]
    diff = var_m[:, :, None] + var_m[:, None, :] - 2 * cov[:, :n_m, :n_m]
    nc = var_m[:, :, None] - 2 * cov[:, :n_m, n_m:] + d[:, None, n_m:]
    diff_var = _dual_correction(diff, n_rdm, n_pattern)
    diff_var[np.arange(n_m), np.arange(n_m)] = 0.0  # exactly 0 for a model against itself
    return _dual_correction(var_m, n_rdm, n_pattern), diff_var, _dual_correction(nc, n_rdm, n_pattern)


def evaluate(
    models,
    data_rdms,
    method: str = "pearson",
    *,
    bootstrap: str | None = "both",
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    alpha: float = 0.05,
    n_permutations: int = 0,
    groups=None,
    seed: int | None = None,
) -> xr.Dataset:
    """Evaluate model RDMs against subject RDMs with bootstrap inference and noise ceiling.

    One entry point for the usual RSA model comparison (Nili et al. 2014; Schuett et al.
    2023), equivalent to rsatoolbox's ``eval_fixed`` / ``eval_bootstrap_pattern`` /
    ``eval_bootstrap_rdm`` / ``eval_bootstrap`` for fixed models.  Each bootstrap sample
    resamples subjects and/or conditions with replacement; the evaluation of a model is
    its mean similarity to the (resampled) subjects' RDMs.

    Parameters
    ----------
    models : np.ndarray (n_models, n_pairs) / (n_models, n_cond, n_cond), or DataArray
        (model, condition, condition_b); a single RDM is one model.
    data_rdms : same layouts, (n_subjects, ...)
    method : str
        Comparison measure, one of :data:`~workbench.rsa.COMPARE_METHODS`.
        pearson, cosine, spearman and rho_a use a closed-form weighted path; the others
        build each resampled RDM (slower, same definitions).
    bootstrap : {"conditions", "subjects", "both", "dual", None}
        None: no resampling; CIs and pairwise tests then use the t distribution over
        subjects (groups), each summarised by the mean over its RDMs.
        "conditions" / "subjects" / "both": percentile CIs and bootstrap p-values.
        "dual": the dual bootstrap of Schuett et al. (2023, eLife 12:e82566;
        rsatoolbox's ``eval_dual_bootstrap`` for fixed models): each draw of subjects
        and conditions is evaluated three ways (both resampled, subjects only,
        conditions only) and the variances are combined into a corrected estimate
        (:func:`dual_bootstrap_variances`): the plain two-factor bootstrap counts the
        subject x condition interaction three times and overestimates the variance.
        CIs and tests then use the t distribution with ``min(n_subjects, n_conditions)
        - 1`` degrees of freedom around the full-data evaluation.
    n_bootstrap : int
    ci : float
        Coverage of the interval: percentile bootstrap interval, or a t interval for
        ``bootstrap=None`` and ``"dual"``.
    alpha : float
        FDR level for the pairwise model comparisons (Benjamini-Hochberg over model pairs).
    groups : array_like (n_subjects,) or str, optional
        Group of each data RDM (e.g. the subject of each session RDM) or a coordinate
        name: the subject bootstrap draws groups and the noise ceiling leaves groups out.
    n_permutations : int
        If > 0, also test each model against chance by relabelling its conditions
        (``p_permutation``, see :func:`permutation_test`; the same relabellings for all models).
    seed : int, optional
        Seed of the bootstrap draws and permutations.

    Returns
    -------
    xarray.Dataset
        ``evaluation`` (model): mean similarity on the full data; ``subject_evaluation``
        (model, subject); ``noise_ceiling`` (bound): lower/upper on the full data;
        ``ci_low``/``ci_high`` (model); ``std`` (model); with a bootstrap also
        ``bootstrap`` (sample, model), ``noise_ceiling_bootstrap`` (sample, bound),
        ``p_zero`` (model; H0: evaluation <= 0), ``p_noise_ceiling`` (model; H0: model
        reaches the lower bound); ``pairwise_p``, ``pairwise_q`` (FDR),
        ``pairwise_reject`` (model, model_b); with ``n_permutations`` also
        ``p_permutation`` (model).  Invalid bootstrap samples are NaN.  With
        ``bootstrap="dual"`` also ``bootstrap_subjects`` / ``bootstrap_conditions``
        (sample, model), the corrected ``variance`` (model), ``pairwise_variance``
        (model, model_b) and ``noise_ceiling_variance`` (model, bound; of the
        evaluation minus each bound), and ``attrs["dof"]``; ``std`` is then the corrected
        standard error, ``p_zero`` / ``p_noise_ceiling`` one-sided and ``pairwise_p``
        two-sided t-tests (rsatoolbox's t-tests, which use a two-sided test against the
        noise ceiling and the mean of the bootstrap samples instead of the full-data
        evaluation).
    """
    method = check_method(method)
    bootstrap = check_choice(bootstrap, "bootstrap", _BOOTSTRAPS)
    ci = check_float(ci, "ci", min_value=0.0, strict_min=True, max_value=1.0)
    alpha = check_float(alpha, "alpha", min_value=0.0, strict_min=True, max_value=1.0)
    m_vec, m_lab, m_names = _named_vectors(models, "models", "model")
    d_vec, d_lab, d_names = _named_vectors(data_rdms, "data_rdms", "subject")
    if m_vec.shape[1] != d_vec.shape[1]:
        raise ValueError(f"models and data_rdms have different numbers of dissimilarities ({m_vec.shape[1]} vs {d_vec.shape[1]})")
    if m_lab is not None and d_lab is not None and not np.array_equal(m_lab, d_lab):
        raise ValueError("models and data_rdms have different condition labels")
    n_m, n_s = m_vec.shape[0], d_vec.shape[0]
    n_c = _n_cond(m_vec.shape[1])

    subj_eval = _similarity(m_vec, d_vec, method)
    point = subj_eval.mean(axis=1)
    gid = _group_ids(groups, data_rdms, n_s)
    n_g = int(gid.max()) + 1
    lower, upper = _ceiling_vectors(d_vec, gid, method)
    coords = {"model": m_names, "subject": d_names, "bound": ["lower", "upper"], "model_b": m_names}
    ds = xr.Dataset(
        {
            "evaluation": ("model", point),
            "subject_evaluation": (("model", "subject"), subj_eval),
            "noise_ceiling": ("bound", np.array([lower, upper])),
        },
        coords=coords,
        attrs={"method": method, "bootstrap": str(bootstrap), "ci": ci},
    )
    if bootstrap is None:
        if n_g > 1:
            # t intervals and paired t-tests over groups (subjects), each the mean of its RDMs
            onehot = np.zeros((n_g, n_s))
            onehot[gid, np.arange(n_s)] = 1.0
            g_eval = subj_eval @ onehot.T / onehot.sum(axis=1)
            centre = g_eval.mean(axis=1)
            se = g_eval.std(axis=1, ddof=1) / np.sqrt(n_g)
            tq = _sps.t.ppf((1 + ci) / 2, n_g - 1)
            ds["ci_low"] = ("model", centre - tq * se)
            ds["ci_high"] = ("model", centre + tq * se)
            ds["std"] = ("model", se)
            p = np.ones((n_m, n_m))
            if n_m > 1:
                diff = g_eval[:, None, :] - g_eval[None, :, :]
                sd = diff.std(axis=2, ddof=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    tstat = diff.mean(axis=2) / (sd / np.sqrt(n_g))
                p = np.where(sd > 0, 2 * _sps.t.sf(np.abs(tstat), n_g - 1), 1.0)
                np.fill_diagonal(p, 1.0)
        else:
            nan = np.full(n_m, np.nan)
            ds["ci_low"], ds["ci_high"], ds["std"] = ("model", nan), ("model", nan), ("model", nan)
            p = np.ones((n_m, n_m))
    else:
        n_bootstrap = check_int(n_bootstrap, "n_bootstrap", min_value=2)
        if bootstrap == "dual" and (n_g < 2 or n_c < 3):
            raise ValueError(f"bootstrap='dual' needs at least 2 subjects (groups) and 3 conditions, got {n_g} and {n_c}")
        rng = np.random.default_rng(seed)
        rdm_idx = rng.integers(0, n_g, size=(n_bootstrap, n_g)) if bootstrap in ("subjects", "both", "dual") else None
        pat_idx = rng.integers(0, n_c, size=(n_bootstrap, n_c)) if bootstrap in ("conditions", "both", "dual") else None
        evals, ceil = _bootstrap(m_vec, d_vec, method, rdm_idx, pat_idx, gid)
        ok = np.isfinite(evals).all(axis=1)
        if bootstrap == "dual":
            # The same draws, subjects only and conditions only (Schuett et al. 2023).
            ev_s, ceil_s = _bootstrap(m_vec, d_vec, method, rdm_idx, None, gid)
            ev_c, ceil_c = _bootstrap(m_vec, d_vec, method, None, pat_idx, gid)
            ds["bootstrap_subjects"] = (("sample", "model"), ev_s)
            ds["bootstrap_conditions"] = (("sample", "model"), ev_c)
            ok &= np.isfinite(ev_c).all(axis=1)
        if ok.sum() < 2:
            raise ValueError("fewer than 2 valid bootstrap samples (too few conditions?)")
        ds["bootstrap"] = (("sample", "model"), evals)
        ds["noise_ceiling_bootstrap"] = (("sample", "bound"), ceil)
        good = evals[ok]
        n_ok = good.shape[0]
        if bootstrap == "dual":
            stacks = [np.concatenate([e[ok], c[ok]], axis=1) for e, c in ((evals, ceil), (ev_s, ceil_s), (ev_c, ceil_c))]
            model_var, diff_var, nc_var = dual_bootstrap_variances(stacks, n_g, n_c)
            dof = min(n_g, n_c) - 1
            se = np.sqrt(model_var)
            tq = _sps.t.ppf((1 + ci) / 2, dof)
            eps = np.finfo(float).eps  # rsatoolbox's floor of the variances in its t-tests
            ds["ci_low"] = ("model", point - tq * se)
            ds["ci_high"] = ("model", point + tq * se)
            ds["std"] = ("model", se)
            ds["variance"] = ("model", model_var)
            ds["pairwise_variance"] = (("model", "model_b"), diff_var)
            ds["noise_ceiling_variance"] = (("model", "bound"), nc_var)
            ds["p_zero"] = ("model", _sps.t.sf(point / np.sqrt(np.maximum(model_var, eps)), dof))
            ds["p_noise_ceiling"] = ("model", _sps.t.sf((lower - point) / np.sqrt(np.maximum(nc_var[:, 0], eps)), dof))
            tstat = (point[:, None] - point[None, :]) / np.sqrt(np.maximum(diff_var, eps))
            p = 2 * _sps.t.sf(np.abs(tstat), dof)
            np.fill_diagonal(p, 1.0)
            ds.attrs["dof"] = dof
        else:
            low, high = bootstrap_ci(good, ci)
            ds["ci_low"] = ("model", np.atleast_1d(low))
            ds["ci_high"] = ("model", np.atleast_1d(high))
            ds["std"] = ("model", good.std(axis=0, ddof=1))
            # (count + 1) / (n + 1): never 0, never above 1 (as permutation_pvalue)
            ds["p_zero"] = ("model", ((good <= 0).sum(axis=0) + 1) / (n_ok + 1))
            ds["p_noise_ceiling"] = ("model", (((ceil[ok, :1] - good) <= 0).sum(axis=0) + 1) / (n_ok + 1))
            p = _pair_tests_bootstrap(good)
    if check_int(n_permutations, "n_permutations", min_value=0) > 0:
        # A stream independent of the bootstrap draws (same seed, different key).
        perm_rng = np.random.default_rng(None if seed is None else [seed, 1])
        perms = perm_rng.permuted(np.tile(np.arange(n_c), (n_permutations, 1)), axis=1)
        p_perm = np.empty(n_m)
        for k in range(n_m):
            null = _similarity(_permuted_vectors(m_vec[k], perms), d_vec, method).mean(axis=1)
            p_perm[k] = permutation_pvalue(float(point[k]), null, "greater")
        ds["p_permutation"] = ("model", p_perm)
    iu = np.triu_indices(n_m, 1)
    q = np.ones((n_m, n_m))
    reject = np.zeros((n_m, n_m), dtype=bool)
    if iu[0].size:
        r_, q_ = fdr_correction(np.minimum(p[iu], 1.0), alpha)
        q[iu], q[iu[1], iu[0]] = q_, q_
        reject[iu], reject[iu[1], iu[0]] = r_, r_
    ds["pairwise_p"] = (("model", "model_b"), p)
    ds["pairwise_q"] = (("model", "model_b"), q)
    ds["pairwise_reject"] = (("model", "model_b"), reject)
    return ds


# ----------------------------------------------------------------------------- permutation
def _permuted_vectors(model_vec: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Condensed model RDM with conditions relabelled by each permutation: (n_perm, P)."""
    n = perms.shape[1]
    full = np.zeros((n, n))
    iu = np.triu_indices(n, 1)
    full[iu] = model_vec
    full[iu[1], iu[0]] = model_vec
    return full[perms[:, iu[0]], perms[:, iu[1]]]


def _check_perm_inputs(model, method: str, n_perm: int):
    """Validate the shared arguments of the permutation tests; return the model vector."""
    method = check_method(method)
    n_perm = check_int(n_perm, "n_perm", min_value=1)
    m_vec, m_lab, _ = _named_vectors(model, "model", "model")
    if m_vec.shape[0] != 1:
        raise ValueError(f"model must be a single RDM, got {m_vec.shape[0]}")
    return method, n_perm, m_vec[0], m_lab


def permutation_test(model, data_rdms, method: str = "spearman", *, n_perm: int = 1000, seed: int | None = None) -> xr.Dataset:
    """Condition-label permutation test of a model-vs-data similarity.

    The statistic is the mean similarity of the model RDM with the subject RDMs; its null
    distribution comes from relabelling the model's conditions at random (rows and
    columns together; Kriegeskorte et al. 2008).  ``p = (#{null >= observed} + 1) / (n_perm + 1)``.

    Parameters
    ----------
    model : one RDM (n_pairs,) / (n_cond, n_cond) / DataArray
    data_rdms : (n_subjects, ...) or one RDM
    method : str
    n_perm : int
    seed : int, optional

    Returns
    -------
    xarray.Dataset with ``observed`` (scalar), ``null`` (perm,), ``p`` (scalar)
    """
    method, n_perm, m_vec, _ = _check_perm_inputs(model, method, n_perm)
    d_vec, _, _ = _named_vectors(data_rdms, "data_rdms", "subject")
    if d_vec.shape[1] != m_vec.size:
        raise ValueError("model and data_rdms have different numbers of dissimilarities")
    n_c = _n_cond(m_vec.size)
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(np.arange(n_c), (n_perm, 1)), axis=1)
    observed = float(_similarity(m_vec[None], d_vec, method).mean())
    null = _similarity(_permuted_vectors(m_vec, perms), d_vec, method).mean(axis=1)
    p = permutation_pvalue(observed, null, "greater")
    return xr.Dataset({"observed": observed, "null": ("perm", null), "p": p}, attrs={"method": method})


# ----------------------------------------------------------------------------- time
def rsa_over_time(
    model,
    data_rdms,
    method: str = "spearman",
    *,
    n_perm: int = 1000,
    correction: str = "cluster",
    threshold: float | None = None,
    alpha: float = 0.05,
    seed: int | None = None,
) -> xr.Dataset:
    """Time-resolved RSA: model-vs-data similarity per time bin, corrected over time.

    The statistic at each bin is the mean similarity of the model with the subject RDMs
    at that bin.  The null comes from one set of condition relabellings of the model,
    shared by all bins (so the temporal structure of the null is preserved).  Correction:
    ``"cluster"`` -- cluster-mass test over contiguous bins
    (:func:`workbench.stats.cluster_permutation`); ``"fdr"`` -- per-bin permutation
    p-values, Benjamini-Hochberg over bins; ``None`` -- uncorrected per-bin p-values.

    Parameters
    ----------
    model : one RDM without time
    data_rdms : DataArray ([subject,] condition, condition_b, time), or np.ndarray
        (n_subjects, n_time, n_pairs) / (n_time, n_pairs)
    method : str
    n_perm : int
    correction : {"cluster", "fdr", None}
    threshold : float, optional
        Cluster-forming threshold on the similarity; default: the (1 - alpha) quantile of
        the null over all permutations and bins.
    alpha : float
    seed : int, optional

    Returns
    -------
    xarray.Dataset over ``time``: ``similarity``, ``p``, ``significant``, ``cluster``
    (cluster labels, "cluster" correction only) and ``null`` (perm, time).
    """
    method, n_perm, m_vec, _ = _check_perm_inputs(model, method, n_perm)
    correction = check_choice(correction, "correction", ("cluster", "fdr", None))
    alpha = check_float(alpha, "alpha", min_value=0.0, strict_min=True, max_value=1.0)
    if isinstance(data_rdms, xr.DataArray):
        vec, _, time = _as_vectors(data_rdms, "data_rdms")
        if time is None:
            raise ValueError("data_rdms has no time dim")
        if vec.ndim == 2:
            vec = vec[None]
    else:
        vec = np.asarray(data_rdms)
        if not isinstance(data_rdms, np.ndarray) or vec.ndim not in (2, 3):
            raise ValueError("data_rdms must be a DataArray with a time dim or an array (n_subjects, n_time, n_pairs)")
        vec = vec[None] if vec.ndim == 2 else vec
        vec = vec.astype(np.float64)
        time = np.arange(vec.shape[1])
    if not np.isfinite(vec).all():
        raise ValueError("data_rdms contains NaN or infinite values")
    if vec.shape[2] != m_vec.size:
        raise ValueError("model and data_rdms have different numbers of dissimilarities")
    n_c = _n_cond(m_vec.size)
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(np.arange(n_c), (n_perm, 1)), axis=1)
    pm = _permuted_vectors(m_vec, perms)
    n_t = vec.shape[1]
    obs = np.empty(n_t)
    null = np.empty((n_perm, n_t))
    for t in range(n_t):
        obs[t] = _similarity(m_vec[None], vec[:, t], method).mean()
        null[:, t] = _similarity(pm, vec[:, t], method).mean(axis=1)
    ds = xr.Dataset({"similarity": ("time", obs), "null": (("perm", "time"), null)}, coords={"time": time})
    if correction == "cluster":
        thr = float(np.quantile(null, 1 - alpha)) if threshold is None else check_float(threshold, "threshold")
        labels, p = cluster_permutation(obs, null, thr, "greater")
        ds["cluster"] = ("time", labels)
        ds.attrs["threshold"] = thr
    else:
        p = permutation_pvalue(obs, null, "greater")
        if correction == "fdr":
            _, p = fdr_correction(p, alpha)
    ds["p"] = ("time", p)
    ds["significant"] = ("time", p <= alpha)
    ds.attrs.update(method=method, correction=str(correction))
    return ds
