"""workbench.neural.pseudo_population: a seeded sampler checked against the trials it may draw."""

from __future__ import annotations

import numpy as np
import pytest
import quantities as pq
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.neural import PseudoPopulationSampler, align_units, pseudo_population, read_raster

IT = "zhang_desimone_7object_IT"


def unit(labels, name, n_time=2, session=None, offset=0):
    """A unit whose value at (trial, time) encodes the trial: offset + 10 * trial + time."""
    labels = np.asarray(labels)
    n = labels.size
    values = offset + 10.0 * np.arange(n)[:, None] + np.arange(n_time)[None, :]
    coords = {"trial": np.arange(n), "time": np.arange(n_time) + 0.5, "label": ("trial", labels), "unit": name}
    if session is not None:
        coords["session"] = session
    return xr.DataArray(values, dims=("trial", "time"), coords=coords, name=name)


def decode_trials(pop, n_time=2, offset=0):
    """Reference inverse of :func:`unit`: the trial index each pseudo-trial took, per unit."""
    return ((pop.values[:, :, 0] - offset) / 10.0).round().astype(int)


def check_population(pop, units, k, subsets=None, replace=False):
    """Every pseudo-trial value must come from a trial of that unit with the same label."""
    trials = decode_trials(pop)
    conds = pop.coords["label"].values
    for u, da in enumerate(units):
        lab = da.coords["label"].values
        allowed = np.arange(lab.size) if subsets is None else np.asarray(subsets[u])
        for j, c in enumerate(conds):
            t = trials[j, u]
            assert t in allowed and lab[t] == c
            np.testing.assert_array_equal(pop.values[j, u], da.values[t])
        if not replace:
            for c in np.unique(conds):
                picked = trials[conds == c, u]
                assert np.unique(picked).size == k  # distinct trials per condition


def test_basic_draw_and_coordinates(rng):
    labels = ["a", "b", "c"] * 4
    units = [unit(rng.permutation(labels), f"n{i}") for i in range(5)]
    pop = pseudo_population(units, "label", 3, seed=1)
    assert pop.dims == ("trial", "unit", "time") and pop.shape == (9, 5, 2)
    assert list(pop.coords["label"].values) == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert list(pop.unit.values) == [f"n{i}" for i in range(5)]
    np.testing.assert_allclose(pop.time.values, [0.5, 1.5])
    check_population(pop, units, 3)


def test_seed_reproducible_and_seeds_differ(rng):
    units = [unit(rng.permutation(["a", "b"] * 10), f"n{i}") for i in range(4)]
    a = pseudo_population(units, "label", 5, seed=7)
    b = pseudo_population(units, "label", 5, seed=7)
    c = pseudo_population(units, "label", 5, seed=8)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a.values, c.values)
    sampler = PseudoPopulationSampler(units, "label")
    xr.testing.assert_identical(sampler.sample(5, 7), a)


def test_edge_cases_one_unit_one_trial_per_condition_one_bin():
    u = unit(["x", "y"], "only", n_time=1)
    pop = pseudo_population([u], "label", 1, seed=0)
    assert pop.shape == (2, 1, 1)
    np.testing.assert_array_equal(pop.values[:, 0, 0], [0.0, 10.0])  # the only trial of each


def test_trial_subsets_are_respected(rng):
    labels = ["a", "b", "c"] * 6
    units = [unit(rng.permutation(labels), f"n{i}") for i in range(3)]
    # Per unit, the first two trials of each label (like a training split).
    subsets = [np.concatenate([np.flatnonzero(u.coords["label"].values == c)[:2] for c in "abc"]) for u in units]
    for seed in range(5):
        pop = pseudo_population(units, "label", 2, seed=seed, trial_subsets=subsets)
        check_population(pop, units, 2, subsets)


def test_group_by_shares_trials_within_a_session(rng):
    labels = rng.permutation(["a", "b"] * 6)
    units = [unit(labels, "s1u1", session=1), unit(labels, "s1u2", session=1, offset=0), unit(rng.permutation(labels), "s2u1", session=2)]
    pop = pseudo_population(units, "label", 4, seed=3, group_by="session")
    trials = decode_trials(pop)
    np.testing.assert_array_equal(trials[:, 0], trials[:, 1])
    assert list(pop.coords["session"].values) == [1, 1, 2]
    check_population(pop, units, 4)
    with pytest.raises(ValueError, match="different trials"):
        pseudo_population([units[0], unit(rng.permutation(labels), "x", session=1)], "label", 2, seed=0, group_by="session")
    with pytest.raises(ValueError, match="no scalar coordinate"):
        pseudo_population(units, "label", 2, seed=0, group_by="rig")


def test_replace_allows_small_conditions(rng):
    units = [unit(["a", "a", "b"], "n0"), unit(["b", "a", "b"], "n1")]
    with pytest.raises(ValueError, match=r"has 1 trials of label='b'.*replace=True"):
        pseudo_population(units, "label", 2, seed=0)
    pop = pseudo_population(units, "label", 5, seed=0, replace=True)
    check_population(pop, units, 5, replace=True)


def test_mismatched_labels_listed_or_intersected():
    units = [unit(["a", "b", "c"] * 2, "n0"), unit(["a", "b"] * 3, "n1"), unit(["a", "b", "d"] * 2, "n2")]
    with pytest.raises(ValueError, match=r"n0: lacks \['d'\]; n1: lacks \['c', 'd'\]; n2: lacks \['c'\]"):
        pseudo_population(units, "label", 1, seed=0)
    pop = pseudo_population(units, "label", 2, seed=0, on_mismatch="intersect")
    assert sorted(set(pop.coords["label"].values)) == ["a", "b"]
    check_population(pop, units, 2)


def test_bad_inputs():
    u = unit(["a", "b"], "n0")
    with pytest.raises(ValueError, match="empty"):
        pseudo_population([], "label", 1)
    with pytest.raises(TypeError, match="list of"):
        pseudo_population(u, "label", 1)
    with pytest.raises(ValueError, match=r"no trial coordinate 'stim'.*\['label'\]"):
        pseudo_population([u], "stim", 1)
    with pytest.raises(ValueError, match="n_per_condition must be >= 1"):
        pseudo_population([u], "label", 0)
    with pytest.raises(TypeError, match="n_per_condition"):
        pseudo_population([u], "label", 1.5)
    with pytest.raises(ValueError, match="dims"):
        pseudo_population([u.T], "label", 1)
    with pytest.raises(ValueError, match="different time axis"):
        pseudo_population([u, unit(["a", "b"], "n1", n_time=3)], "label", 1)
    with pytest.raises(ValueError, match="outside"):
        pseudo_population([u], "label", 1, trial_subsets=[np.array([0, 5])])
    with pytest.raises(ValueError, match="entries for 1 units"):
        pseudo_population([u], "label", 1, trial_subsets=[np.array([0]), np.array([1])])
    with pytest.raises(ValueError, match="on_mismatch"):
        pseudo_population([u], "label", 1, on_mismatch="ignore")
    with pytest.raises(TypeError, match="seed"):
        pseudo_population([u], "label", 1, seed="abc")
    with pytest.raises(ValueError, match="NaN"):
        pseudo_population([u.where(u.time < 1)], "label", 1)
    with pytest.raises(TypeError, match="replace"):
        pseudo_population([u], "label", 1, replace=1)


@settings(max_examples=30, deadline=None)
@given(
    n_units=st.integers(1, 6),
    n_cond=st.integers(1, 4),
    reps=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_property_draws_are_valid(n_units, n_cond, reps, seed, data):
    rng = np.random.default_rng(seed)
    conds = [f"c{i}" for i in range(n_cond)]
    units = [unit(rng.permutation(conds * reps), f"n{i}") for i in range(n_units)]
    k = data.draw(st.integers(1, reps))
    pop = pseudo_population(units, "label", k, seed=seed)
    assert pop.shape == (n_cond * k, n_units, 2)
    check_population(pop, units, k)


def test_it_pseudo_population(data_file):
    names = ["bp1001spk_01A", "bp1001spk_02A", "bp1002spk_01A"]
    block = read_raster([data_file(f"{IT}/{n}_raster_data.mat") for n in names])
    per_unit = align_units(block, "stimulus", (50, 350) * pq.ms, 300 * pq.ms)
    pop = pseudo_population(per_unit, "stimulus_ID", 10, seed=0, group_by="session_ID")
    assert pop.shape == (70, 3, 1)
    assert sorted(set(pop.coords["stimulus_ID"].values)) == ["car", "couch", "face", "flower", "guitar", "hand", "kiwi"]
    assert list(pop.coords["session_ID"].values) == [1001, 1001, 1002]
    # Each value is one of that unit's counts for a trial of the same object.
    pop_ids = pop.coords["stimulus_ID"].values
    for u, da in enumerate(per_unit):
        ids, counts = da.coords["stimulus_ID"].values, da.values[:, 0]
        for j in range(70):
            assert pop.values[j, u, 0] in counts[ids == pop_ids[j]]
