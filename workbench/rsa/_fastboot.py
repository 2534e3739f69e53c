"""Bootstrap evaluation without materialising resampled RDMs (pearson, cosine, spearman, rho_a).

A bootstrap sample over conditions turns an RDM vector into the vector of pairs of
resampled conditions, with the pairs of a condition and its own copy removed.  Each
original pair (a, c) then appears ``n_a * n_c`` times, where ``n_a`` is how often
condition a was drawn.  Every statistic the evaluation needs is therefore a *weighted*
statistic of the original vectors with pair weights ``w = n_a n_c``: weighted Gram
matrices for Pearson / cosine, and weighted mid-ranks (ties averaged, as
``scipy.stats.rankdata``) for the rank measures.  Subjects drawn several times get
integer weights the same way.  The noise ceiling is computed in closed form from the
same Gram matrices: the pooled RDM is a linear combination ``sum_s alpha_s z_s`` of the
normalised subject RDMs, so its correlation with subject g is
``alpha^T R[:, g] / sqrt(alpha^T R alpha)`` with R the subjects' correlation (cosine)
matrix.  Only the rank measures need to rank the pooled vectors per sample.
"""

from __future__ import annotations

import math

import numpy as np

from ._compare import _FLAT

__all__: list[str] = []

FAST_METHODS = ("pearson", "cosine", "spearman", "rho_a")


def _rank_plan(v: np.ndarray):
    """Sort order and tie-group bounds (first, last sorted index) of each row of v (n, P)."""
    # Mid-ranks do not depend on the order within ties, so the (faster) unstable sort is fine.
    order = np.argsort(v, axis=1)
    s = np.take_along_axis(v, order, axis=1)
    n = v.shape[1]
    idx = np.broadcast_to(np.arange(n), s.shape)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones(s.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, idx, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return order, first, last


def _weighted_ranks(order: np.ndarray, first: np.ndarray, last: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of rows under multiplicity weights.

    order, first, last : (R, P) sort order and tie-group bounds per row (``_rank_plan``)
    w : (R, P) weights (multiplicities) of the entries of each row
    Returns (R, P): the rank every entry would have (ties averaged) in the vector where
    entry p is repeated w_p times.
    """
    ws = np.take_along_axis(w, order, axis=1)
    cws = np.cumsum(ws, axis=1)
    before = np.take_along_axis(cws, first, axis=1) - np.take_along_axis(ws, first, axis=1)
    group = np.take_along_axis(cws, last, axis=1) - before
    out = np.empty_like(ws)
    np.put_along_axis(out, order, before + (group + 1.0) / 2.0, axis=1)
    return out


def _weighted_ranks_fixed(plan, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of fixed vectors under per-sample weights: plan of (n, P) vectors, w (B, P) -> (B, n, P).

    The sort order of a fixed vector is the same in every sample, so plain column
    gathers with 1-D indices suffice; untied vectors skip the tie-group gathers.
    """
    order, first, last = plan
    n, p = order.shape
    out = np.empty((w.shape[0], n, p))
    for v in range(n):
        o = order[v]
        ws = w[:, o]
        cws = np.cumsum(ws, axis=1)
        if (first[v] == last[v]).all():  # no ties: own weight only
            r = cws - (ws - 1.0) / 2.0
        else:
            before = cws[:, first[v]] - ws[:, first[v]]
            r = before + (cws[:, last[v]] - before + 1.0) / 2.0
        out[:, v, o] = r
    return out


def _normalise(cross: np.ndarray, diag_a: np.ndarray, diag_b: np.ndarray) -> np.ndarray:
    den = np.sqrt(diag_a[..., :, None] * diag_b[..., None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cross / den
    return np.where(den > 0, out, 0.0)


def _group_average(per_rdm: np.ndarray, u: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Ceiling from per-RDM similarities (B, [G,] R): mean within group, then over present groups.

    per_rdm (B, R) is one similarity per RDM (upper bound); (B, G, R) gives, for each
    left-out group g, the similarities of all RDMs (only those in g are used; lower bound).
    u (B, R): draw counts; member (G, R): group indicator.
    """
    size = member.sum(axis=1)
    if per_rdm.ndim == 2:
        by_group = per_rdm @ member.T / size
    else:
        by_group = np.einsum("bgr,gr->bg", per_rdm, member) / size
    present = (u @ member.T) > 0
    return np.where(present, by_group, 0.0).sum(axis=1) / present.sum(axis=1)


def _loo_counts(u: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Draw counts of the RDMs pooled when each group is left out: (B, G, R)."""
    return u[:, None, :] * (1.0 - member)[None]


def _ceiling_from_sim(rho: np.ndarray, u: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Lower/upper noise ceiling from RDM-RDM similarity rho (B, R, R), draw counts u (B, R)."""
    n_tot = u.sum(axis=1)
    alpha_all = u / n_tot[:, None]
    num_up = np.einsum("bs,bsr->br", alpha_all, rho)
    # sqrt(alpha^T rho alpha) is the spread of the pooled RDM; below _FLAT it is rounding
    # residue and the similarity is 0 (see _inference._not_flat).
    den_up = np.sqrt(np.maximum(np.einsum("bs,bst,bt->b", alpha_all, rho, alpha_all), 0.0))
    upper = _group_average(np.where(den_up[:, None] > _FLAT, num_up / den_up[:, None], 0.0), u, member)
    loo = _loo_counts(u, member)
    alpha = loo / np.maximum(loo.sum(axis=2, keepdims=True), 1.0)  # (B, G, R)
    num = alpha @ rho
    den = np.sqrt(np.maximum(np.einsum("bgs,bst,bgt->bg", alpha, rho, alpha), 0.0))
    lower = _group_average(np.where(den[:, :, None] > _FLAT, num / den[:, :, None], 0.0), u, member)
    single = ((u @ member.T) > 0).sum(axis=1) == 1  # one group: lower = upper (rsatoolbox)
    return np.stack([np.where(single, upper, lower), upper], axis=1)


def _pair_sums(vecs: np.ndarray, w: np.ndarray):
    """Weighted Gram (B, n, n), weighted sums (B, n) and total weight (B,)."""
    n = vecs.shape[0]
    ii, jj = np.triu_indices(n)
    gram_flat = w @ (vecs[ii] * vecs[jj]).T
    gram = np.empty((w.shape[0], n, n))
    gram[:, ii, jj] = gram_flat
    gram[:, jj, ii] = gram_flat
    return gram, w @ vecs.T, w.sum(axis=1)


def fast_bootstrap(models, data, method, rdm_idx, pattern_idx, groups=None, chunk: int = 64):
    """Same result as ``_bootstrap_from_indices`` for the methods in FAST_METHODS."""
    # Invalid samples (< 3 distinct conditions) produce 0/0 on the way; they are masked.
    with np.errstate(invalid="ignore", divide="ignore"):
        return _fast_bootstrap(models, data, method, rdm_idx, pattern_idx, groups, chunk)


def _fast_bootstrap(models, data, method, rdm_idx, pattern_idx, groups, chunk):
    n_m, n_pairs = models.shape
    n_s = data.shape[0]
    if groups is None:
        groups = np.arange(n_s)
    n_g = int(groups.max()) + 1
    member = np.zeros((n_g, n_s))
    member[groups, np.arange(n_s)] = 1.0
    n_c = (1 + math.isqrt(1 + 8 * n_pairs)) // 2
    n_b = (rdm_idx if rdm_idx is not None else pattern_idx).shape[0]
    iu = np.triu_indices(n_c, 1)
    vecs = np.concatenate([models, data])
    if method == "pearson":
        raw_sq = vecs * vecs  # weighted norms of the raw vectors: scale of the flatness test
        # Pearson is shift invariant per vector; removing the full-vector mean first keeps
        # the weighted "sum of squares minus squared sum" below free of cancellation.
        vecs = vecs - vecs.mean(axis=1, keepdims=True)
        # The variance below is computed from these shifted vectors, so its rounding
        # residue scales with them too: a resampled vector that is constant (e.g. all 0)
        # has raw norm 0 but a residue of order eps * (its shifted norm)^2.
        raw_sq += vecs * vecs
    rank = method in ("spearman", "rho_a")
    if rank:
        plan = _rank_plan(vecs)
    evals = np.full((n_b, n_m), np.nan)
    ceil = np.full((n_b, 2), np.nan)
    for lo in range(0, n_b, chunk):
        hi = min(lo + chunk, n_b)
        b = hi - lo
        if pattern_idx is not None:
            cnt = np.zeros((b, n_c))
            np.add.at(cnt, (np.repeat(np.arange(b), n_c), pattern_idx[lo:hi].ravel()), 1.0)
            w = cnt[:, iu[0]] * cnt[:, iu[1]]
            valid = (cnt > 0).sum(axis=1) >= 3
        else:
            w = np.ones((b, n_pairs))
            valid = np.ones(b, dtype=bool)
        if rdm_idx is not None:
            gu = np.zeros((b, n_g))
            np.add.at(gu, (np.repeat(np.arange(b), rdm_idx.shape[1]), rdm_idx[lo:hi].ravel()), 1.0)
            u = gu[:, groups]  # every RDM of a drawn group, as often as the group was drawn
        else:
            u = np.ones((b, n_s))
        tot = w.sum(axis=1)
        if not rank:
            gram, s1, _ = _pair_sums(vecs, w)
            if method == "pearson":
                cov = gram - s1[:, :, None] * s1[:, None, :] / np.where(tot > 0, tot, 1)[:, None, None]
                # constant up to rounding (see _compare._centre): variance exactly 0
                flat = np.diagonal(cov, axis1=1, axis2=2) <= _FLAT**2 * (w @ raw_sq.T)
                cov = np.where(flat[:, :, None] | flat[:, None, :], 0.0, cov)
            else:
                cov = gram
            d = np.diagonal(cov, axis1=1, axis2=2)
            sim = _normalise(cov, d, d)
            rho = sim[:, n_m:, n_m:]
            cl = _ceiling_from_sim(rho, u, member)
            # a present subject that cannot be normalised leaves the ceiling undefined
            cl[((d[:, n_m:] <= 0) & (u > 0)).any(axis=1)] = np.nan
        else:
            ranks = _weighted_ranks_fixed(plan, w)
            rc = ranks - (tot[:, None, None] + 1.0) / 2.0  # weighted mean rank is (W + 1) / 2
            cov = (rc * w[:, None, :]) @ rc.transpose(0, 2, 1)  # batched BLAS, not einsum
            if method == "spearman":
                d = np.diagonal(cov, axis1=1, axis2=2)
                sim = _normalise(cov, d, d)
            else:
                sim = cov * 12.0 / (tot**3 - tot)[:, None, None]
            # Pooled RDMs: mean ranks of (all | all but one) subjects, re-ranked per sample.
            r_data = ranks[:, n_m:]
            # Rank the pooled *sums* (integer draw counts times half-integer ranks: exact in
            # floating point), so ties among pooled means survive exactly as in rsatoolbox;
            # dividing by the number of RDMs would not change the ranks.
            counts = np.concatenate([u[:, None, :], _loo_counts(u, member)], axis=1)  # (b, 1 + G, R)
            pooled = counts @ r_data  # (b, 1 + G, P)
            flat = pooled.reshape(-1, n_pairs)
            pr = _weighted_ranks(*_rank_plan(flat), np.repeat(w, 1 + n_g, axis=0)).reshape(b, 1 + n_g, n_pairs)
            prc = pr - (tot[:, None, None] + 1.0) / 2.0
            cross = (prc * w[:, None, :]) @ rc[:, n_m:].transpose(0, 2, 1)  # (b, 1+G, R)
            if method == "spearman":
                pv = np.einsum("bip,bip->bi", prc * w[:, None, :], prc)
                dv = np.diagonal(cov, axis1=1, axis2=2)[:, n_m:]
                den = np.sqrt(pv[:, :, None] * dv[:, None, :])
                c = np.where(den > 0, cross / den, 0.0)
            else:
                c = cross * 12.0 / (tot**3 - tot)[:, None, None]
            upper = _group_average(c[:, 0, :], u, member)
            lower = _group_average(c[:, 1:, :], u, member)
            single = ((u @ member.T) > 0).sum(axis=1) == 1
            cl = np.stack([np.where(single, upper, lower), upper], axis=1)
        ev = np.einsum("bms,bs->bm", sim[:, :n_m, n_m:], u) / u.sum(axis=1)[:, None]
        evals[lo:hi][valid] = ev[valid]
        ceil[lo:hi][valid] = cl[valid]
    return evals, ceil
