"""workbench.stats against plain loop references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from workbench.stats import (
    bootstrap_ci,
    cluster_permutation,
    fdr_correction,
    permutation_pvalue,
)


# ---------------------------------------------------------------- references
def ref_fdr(p, alpha, method):
    flat = p.ravel()
    m = flat.size
    c = sum(1.0 / i for i in range(1, m + 1)) if method == "by" else 1.0
    q = np.empty(m)
    for k in range(m):
        # q_k = min over all p_j >= p_k of c*m*p_j/rank_j
        best = 1.0
        srt = np.sort(flat)
        for j in range(m):
            if srt[j] >= flat[k]:
                best = min(best, c * m * srt[j] / (j + 1))
        q[k] = best
    return (q <= alpha).reshape(p.shape), q.reshape(p.shape)


def ref_clusters_1d(stat, thr):
    """Runs of stat > thr, as lists of index lists (walk left to right)."""
    runs, cur = [], []
    for i, v in enumerate(stat):
        if v > thr:
            cur.append(i)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def ref_cluster_perm_1d(obs, null, thr):
    runs = ref_clusters_1d(obs, thr)
    maxes = []
    for row in null:
        masses = [sum(row[i] for i in r) for r in ref_clusters_1d(row, thr)]
        maxes.append(max(masses) if masses else 0.0)
    p = np.ones(obs.size)
    lab = np.zeros(obs.size, int)
    for k, r in enumerate(runs):
        mass = sum(obs[i] for i in r)
        pk = (sum(m >= mass for m in maxes) + 1) / (len(maxes) + 1)
        for i in r:
            p[i] = pk
            lab[i] = k + 1
    return lab, p


def ref_components_2d(mask):
    """4-connected components by flood fill."""
    lab = np.zeros(mask.shape, int)
    n = 0
    for i in range(mask.shape[0]):
        for j in range(mask.shape[1]):
            if mask[i, j] and not lab[i, j]:
                n += 1
                stack = [(i, j)]
                lab[i, j] = n
                while stack:
                    a, b = stack.pop()
                    for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                        x, y = a + da, b + db
                        if 0 <= x < mask.shape[0] and 0 <= y < mask.shape[1] and mask[x, y] and not lab[x, y]:
                            lab[x, y] = n
                            stack.append((x, y))
    return lab, n


# ---------------------------------------------------------------- FDR
@pytest.mark.parametrize("method", ["bh", "by"])
def test_fdr_matches_reference(rng, method):
    p = rng.uniform(size=(4, 7)) ** 3
    reject, q = fdr_correction(p, 0.05, method)
    r_reject, r_q = ref_fdr(p, 0.05, method)
    np.testing.assert_allclose(q, r_q, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(reject, r_reject)
    assert q.shape == p.shape


def test_fdr_known_values_and_ties():
    # ties share the same q; hand-computed BH: m=4, p sorted .01 .03 .03 .2
    reject, q = fdr_correction(np.array([0.03, 0.01, 0.03, 0.2]), 0.05)
    np.testing.assert_allclose(q, [0.04, 0.04, 0.04, 0.2])
    np.testing.assert_array_equal(reject, [True, True, True, False])
    r1, q1 = fdr_correction(np.array([0.3]))
    assert q1[0] == 0.3 and not r1[0]
    r0, q0 = fdr_correction(np.zeros(3))
    assert r0.all() and (q0 == 0).all()


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1)))
def test_fdr_properties(p):
    _, q = fdr_correction(p)
    _, q_by = fdr_correction(p, method="by")
    assert (q >= p - 1e-15).all() and (q <= 1).all()
    assert (q_by >= q - 1e-15).all()
    order = np.argsort(p, kind="stable")
    assert (np.diff(q[order]) >= -1e-15).all()  # monotone in p


def test_fdr_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        fdr_correction(np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="p values"):
        fdr_correction(np.array([0.1, 1.5]))
    with pytest.raises(ValueError, match="method"):
        fdr_correction(np.array([0.1]), method="holm")
    with pytest.raises(ValueError, match="alpha"):
        fdr_correction(np.array([0.1]), alpha=0.0)
    with pytest.raises(TypeError, match="p"):
        fdr_correction([0.1, 0.2])


# ---------------------------------------------------------------- permutation p
def test_permutation_pvalue_reference(rng):
    null = rng.normal(size=(200, 5))
    obs = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for tail in ("greater", "less", "two-sided"):
        p = permutation_pvalue(obs, null, tail)
        for k in range(5):
            col = null[:, k]
            if tail == "greater":
                c = sum(v >= obs[k] for v in col)
            elif tail == "less":
                c = sum(v <= obs[k] for v in col)
            else:
                c = sum(abs(v) >= abs(obs[k]) for v in col)
            assert p[k] == pytest.approx((c + 1) / 201)


def test_permutation_pvalue_scalar_broadcast_and_ties():
    null = np.array([1.0, 1.0, 2.0])
    assert permutation_pvalue(1.0, null) == 1.0  # ties count as extreme
    assert permutation_pvalue(5.0, null) == 0.25
    p = permutation_pvalue(np.array([[0.0], [3.0]]), np.array([[1.0, 2.0]]), "greater")
    assert p.shape == (2, 2)
    np.testing.assert_allclose(p, [[1.0, 1.0], [0.5, 0.5]])


def test_permutation_pvalue_bad_inputs():
    with pytest.raises(ValueError, match="tail"):
        permutation_pvalue(0.0, np.zeros(3), tail="both")
    with pytest.raises(ValueError, match="null"):
        permutation_pvalue(np.zeros(3), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="observed"):
        permutation_pvalue(np.array([np.nan]), np.zeros(3))


# ---------------------------------------------------------------- clusters
def test_cluster_1d_reference(rng):
    obs = rng.normal(size=40) + np.r_[np.zeros(10), 2.5 * np.ones(8), np.zeros(22)]
    null = rng.normal(size=(60, 40))
    lab, p = cluster_permutation(obs, null, 1.0)
    r_lab, r_p = ref_cluster_perm_1d(obs, null, 1.0)
    np.testing.assert_array_equal(lab, r_lab)
    np.testing.assert_allclose(p, r_p)
    # "less" is the mirror image of "greater"
    lab2, p2 = cluster_permutation(-obs, -null, -1.0, tail="less")
    np.testing.assert_array_equal(lab2, lab)
    np.testing.assert_allclose(p2, p)


def test_cluster_two_sided_separates_signs():
    obs = np.array([0.0, 3, 3, -3, -3, 0])
    null = np.zeros((9, 6))
    null[0, :2] = 5.0  # one null map with mass 10 > 6
    lab, p = cluster_permutation(obs, null, 1.0, tail="two-sided")
    assert set(np.unique(lab)) == {0, 1, 2}
    assert lab[1] == lab[2] != lab[3] == lab[4]
    np.testing.assert_allclose(p[[1, 2, 3, 4]], 0.2)  # (1 + 1) / 10
    assert p[0] == 1.0


def test_cluster_2d_four_connectivity(rng):
    obs = np.zeros((6, 6))
    obs[0, 0] = obs[1, 1] = 5.0  # diagonal neighbours: two clusters under 4-connectivity
    obs[3:5, 3:5] = 2.0
    null = rng.normal(size=(30, 6, 6))
    lab, p = cluster_permutation(obs, null, 1.0)
    r_lab, n = ref_components_2d(obs > 1.0)
    assert n == 3 and lab.max() == 3
    # same partition (labels may be numbered differently)
    for k in range(1, n + 1):
        assert len(np.unique(lab[r_lab == k])) == 1
    maxes = []
    for row in null:
        rl, rn = ref_components_2d(row > 1.0)
        maxes.append(max([row[rl == k].sum() for k in range(1, rn + 1)], default=0.0))
    for k in range(1, n + 1):
        mass = obs[r_lab == k].sum()
        expect = (sum(m >= mass for m in maxes) + 1) / 31
        np.testing.assert_allclose(p[r_lab == k], expect)


def test_cluster_edge_cases():
    lab, p = cluster_permutation(np.zeros(5), np.ones((4, 5)), 0.5)  # no observed cluster
    assert (lab == 0).all() and (p == 1).all()
    lab, p = cluster_permutation(np.array([2.0]), np.zeros((1, 1)), 1.0)  # n_time=1, n_perm=1
    assert lab[0] == 1 and p[0] == 0.5


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(1, 25), elements=st.floats(-5, 5)), st.floats(-1, 2))
def test_cluster_properties(obs, thr):
    null = np.stack([np.roll(obs, k) for k in range(5)])
    lab, p = cluster_permutation(obs, null, thr)
    assert ((lab > 0) == (obs > thr)).all()
    assert ((p > 0) & (p <= 1)).all()
    # observed map is itself in the null (roll 0), so p >= 2/6 ... of its largest cluster
    if lab.max():
        assert p[lab > 0].min() >= 1 / 6


def test_cluster_bad_inputs():
    with pytest.raises(ValueError, match="null"):
        cluster_permutation(np.zeros(5), np.zeros((3, 4)), 1.0)
    with pytest.raises(ValueError, match="observed"):
        cluster_permutation(np.zeros((2, 2, 2)), np.zeros((3, 2, 2, 2)), 1.0)
    with pytest.raises(ValueError, match="threshold"):
        cluster_permutation(np.zeros(5), np.zeros((3, 5)), -1.0, tail="two-sided")
    with pytest.raises(TypeError, match="threshold"):
        cluster_permutation(np.zeros(5), np.zeros((3, 5)), "1")


# ---------------------------------------------------------------- bootstrap CI
def test_bootstrap_ci_reference(rng):
    s = rng.normal(size=(1001, 3))
    low, high = bootstrap_ci(s, 0.9)
    for k in range(3):
        srt = np.sort(s[:, k])
        # with 1001 samples the 5% / 95% linear quantiles fall exactly on order stats 50 / 950
        assert low[k] == pytest.approx(srt[50], abs=1e-12) and high[k] == pytest.approx(srt[950], abs=1e-12)
    low, high = bootstrap_ci(s[:, 0], 0.95, "normal")
    m, sd = s[:, 0].mean(), s[:, 0].std(ddof=1)
    assert low == pytest.approx(m - 1.959963984540054 * sd)
    assert high == pytest.approx(m + 1.959963984540054 * sd)


def test_bootstrap_ci_edge_and_bad():
    low, high = bootstrap_ci(np.array([3.0]))
    assert low == high == 3.0
    with pytest.raises(ValueError, match="ci"):
        bootstrap_ci(np.zeros(5), ci=1.0)
    with pytest.raises(ValueError, match="method"):
        bootstrap_ci(np.zeros(5), method="bca")
    with pytest.raises(ValueError, match="samples"):
        bootstrap_ci(np.zeros(0))
