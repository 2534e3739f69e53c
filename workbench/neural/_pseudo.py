"""Pseudo-populations: stack trials of units recorded separately into one ``(trial, unit, time)`` array.

For units that never shared a trial (one session each), a population response to a
condition is simulated by drawing, for every unit independently, ``k`` of its trials of
that condition and putting the ``j``-th draw of every unit into pseudo-trial ``j``
(Meyers, Front. Neuroinform. 2013, "pseudo-populations").  Units recorded in the same
session can share their draws (``group_by="session_ID"``), which keeps their trial-by-trial
co-variation.

Built for cross-validation loops: :class:`PseudoPopulationSampler` converts the inputs
once (responses stacked into one padded array, labels into integer codes) and each
:meth:`~PseudoPopulationSampler.sample` is a few vectorised NumPy operations over all
units at once (one random draw, one row-wise sort, one gather).
:func:`pseudo_population` is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_choice, check_int

__all__ = ["pseudo_population", "PseudoPopulationSampler"]


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}")


class PseudoPopulationSampler:
    """Prepared pseudo-population sampler over per-unit ``(trial, time)`` responses.

    Parameters
    ----------
    per_unit : list of xarray.DataArray
        One array per unit, dims ``(trial, time)`` (e.g. from :func:`align_units`), each
        with a coordinate ``label`` along ``trial``; all share the same ``time`` coordinate.
    label : str
        Name of the trial coordinate that defines conditions (e.g. ``"stimulus_ID"``).
    group_by : str, optional
        Scalar coordinate/attribute (e.g. ``"session_ID"``) naming units recorded together:
        units of a group draw the *same* trials (they must have identical labels).

    Notes
    -----
    Conditions are compared as strings.  The sampler keeps references to the input
    values (no copy).
    """

    def __init__(self, per_unit: Sequence, label: str, *, group_by: str | None = None):
        import xarray as xr

        if isinstance(per_unit, xr.DataArray) or not isinstance(per_unit, Sequence):
            raise TypeError("per_unit must be a list of (trial, time) DataArrays (one per unit)")
        if len(per_unit) == 0:
            raise ValueError("per_unit is empty: give at least one unit")
        if not isinstance(label, str):
            raise TypeError(f"label must be a str (a trial coordinate name), got {type(label).__name__}")
        self.label = label
        self.group_by = group_by
        values, labels, scalars, names = [], [], [], []
        time = None
        for u, da in enumerate(per_unit):
            if not isinstance(da, xr.DataArray):
                raise TypeError(f"per_unit[{u}] must be an xarray.DataArray, got {type(da).__name__}")
            if da.dims != ("trial", "time"):
                raise ValueError(f"per_unit[{u}] ({da.name}) must have dims ('trial', 'time'), got {da.dims}")
            # Variables, not DataArray coordinates: building coordinate DataArrays is slow.
            variables = da.coords.variables
            if label not in variables or variables[label].dims != ("trial",):
                have = [c for c, v in variables.items() if v.dims == ("trial",) and c != "trial"]
                raise ValueError(f"per_unit[{u}] ({da.name}) has no trial coordinate {label!r}; trial coordinates: {have}")
            if da.shape[0] == 0:
                raise ValueError(f"per_unit[{u}] ({da.name}) has no trials")
            t = variables["time"].values if "time" in variables else np.arange(da.shape[1])
            if time is None:
                time = t
            elif t.shape != time.shape or not np.array_equal(t, time):
                raise ValueError(f"per_unit[{u}] ({da.name}) has a different time axis from per_unit[0]")
            v = da.values
            if v.dtype.kind not in "biuf":
                raise TypeError(f"per_unit[{u}] ({da.name}) must hold numbers, got dtype {v.dtype}")
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                raise ValueError(f"per_unit[{u}] ({da.name}) contains NaN or infinite values")
            values.append(v)
            sc = {c: v.values.item() for c, v in variables.items() if v.ndim == 0}
            scalars.append(sc)
            labels.append(np.asarray(variables[label].values).astype(str))
            names.append(str(da.name) if da.name is not None else str(sc["unit"]) if "unit" in sc else f"unit{u}")
        self.n_units = len(values)
        self.time = time
        self.names = np.asarray(names)
        self.attrs = dict(per_unit[0].attrs)
        self.n_trials = np.asarray([v.shape[0] for v in values])
        # All labels as integer codes into the sorted union.
        self.all_conditions = np.unique(np.concatenate(labels))
        max_trials = int(self.n_trials.max())
        self._codes = np.full((self.n_units, max_trials), -1, dtype=np.int64)
        for u, lab in enumerate(labels):
            self._codes[u, : lab.size] = np.searchsorted(self.all_conditions, lab)
        # References, not a padded stack: at 1 ms bins the inputs can be hundreds of MB.
        self._values = values
        self._dtype = np.result_type(*[v.dtype for v in values])
        shared = set.intersection(*[set(sc) for sc in scalars]) - {"unit"}
        self.unit_coords = {}
        for key in sorted(shared):
            vals = [sc[key] for sc in scalars]
            arr = np.asarray(vals)
            self.unit_coords[key] = arr if arr.dtype != object else np.asarray([str(v) for v in vals])
        # Groups: the first unit of each group draws; the others copy its trial choice.
        if group_by is None:
            self._leader = np.arange(self.n_units)
        else:
            keys = []
            for u, sc in enumerate(scalars):
                if group_by in sc:
                    keys.append(sc[group_by])
                elif group_by in per_unit[u].attrs:
                    keys.append(per_unit[u].attrs[group_by])
                else:
                    raise ValueError(f"group_by={group_by!r}: unit {names[u]!r} has no scalar coordinate or attribute {group_by!r}")
            first: dict = {}
            self._leader = np.asarray([first.setdefault(key, u) for u, key in enumerate(keys)])
            for u in range(self.n_units):
                lead = self._leader[u]
                if not np.array_equal(self._codes[u], self._codes[lead]):
                    raise ValueError(f"group_by={group_by!r}: units {names[lead]!r} and {names[u]!r} are in one group but have different trials/labels")
        self._leaders = np.unique(self._leader)

    def sample(self, n_per_condition: int, seed=None, *, trial_subsets: Sequence | None = None, on_mismatch: str = "raise", replace: bool = False):
        """Draw one pseudo-population; see :func:`pseudo_population` for the arguments and result."""
        import xarray as xr

        k = check_int(n_per_condition, "n_per_condition", min_value=1)
        check_choice(on_mismatch, "on_mismatch", ("raise", "intersect"))
        if not isinstance(replace, bool):
            raise TypeError(f"replace must be a bool, got {type(replace).__name__}")
        rng = _rng(seed)
        n_units, max_trials = self._codes.shape
        n_all = self.all_conditions.size
        # codes: (units, trials) with -1 for padding and for trials outside the subset.
        if trial_subsets is None:
            codes = self._codes
        else:
            if len(trial_subsets) != n_units:
                raise ValueError(f"trial_subsets has {len(trial_subsets)} entries for {n_units} units")
            mask = np.zeros((n_units, max_trials), dtype=bool)
            for u, sub in enumerate(trial_subsets):
                sub = np.asarray(sub)
                if sub.ndim != 1 or (sub.size and sub.dtype.kind not in "iu"):
                    raise TypeError(f"trial_subsets[{u}] must be a 1-D integer array of trial indices")
                if sub.size and (sub.min() < 0 or sub.max() >= self.n_trials[u]):
                    raise ValueError(f"trial_subsets[{u}] has indices outside 0..{self.n_trials[u] - 1}")
                mask[u, sub] = True
            codes = np.where(mask, self._codes, -1)
            for u in range(n_units):
                lead = self._leader[u]
                if lead != u and not np.array_equal(mask[u], mask[lead]):
                    raise ValueError(f"group_by={self.group_by!r}: units {str(self.names[lead])!r} and {str(self.names[u])!r} share a group but have different trial_subsets")
        # counts[u, c]: trials of condition c available to unit u.
        counts = np.zeros((n_units, n_all + 1), dtype=np.int64)
        np.add.at(counts, (np.repeat(np.arange(n_units), max_trials), codes.ravel() + 1), 1)
        counts = counts[:, 1:]
        present = counts > 0
        common = present.all(axis=0)
        if not np.array_equal(common, present.any(axis=0)) and on_mismatch == "raise":
            union = present.any(axis=0)
            lines = [f"{self.names[u]}: lacks {self.all_conditions[union & ~present[u]].tolist()}" for u in range(n_units) if (union & ~present[u]).any()]
            shown = "; ".join(lines[:5]) + (f"; ... ({len(lines)} units)" if len(lines) > 5 else "")
            raise ValueError(f"units have different {self.label!r} label sets ({shown}); pass on_mismatch='intersect' to keep only the common labels")
        used = np.flatnonzero(common)
        if used.size == 0:
            raise ValueError(f"no {self.label!r} label is shared by all units")
        conditions = self.all_conditions[used]
        n_cond = used.size
        leaders = self._leaders
        lc = counts[leaders][:, used]  # (leaders, n_cond)
        if not replace and (lc < k).any():
            g, c = np.argwhere(lc < k)[0]
            raise ValueError(
                f"unit {str(self.names[leaders[g]])!r} has {lc[g, c]} trials of {self.label}={str(conditions[c])!r} "
                f"(in its subset) but n_per_condition={k}; lower it or pass replace=True"
            )
        # Map codes to 0..n_cond-1 for used conditions, n_cond for everything else (sorted last).
        remap = np.full(n_all + 1, n_cond, dtype=np.int64)
        remap[used + 1] = np.arange(n_cond)
        lcodes = remap[codes[leaders] + 1]  # (leaders, max_trials)
        # Sort each row by (condition, random key): a random order inside each condition.
        order = np.argsort(lcodes + rng.random(lcodes.shape), axis=1, kind="stable")
        starts = np.concatenate([np.zeros((leaders.size, 1), dtype=np.int64), np.cumsum(lc, axis=1)[:, :-1]], axis=1)
        if replace:
            offsets = np.floor(rng.random((leaders.size, n_cond, k)) * lc[:, :, None]).astype(np.int64)
        else:
            offsets = np.broadcast_to(np.arange(k), (leaders.size, n_cond, k))
        pos = (starts[:, :, None] + offsets).reshape(leaders.size, n_cond * k)
        chosen = np.take_along_axis(order, pos, axis=1)  # (leaders, n_cond * k) trial indices
        row_of_leader = np.empty(n_units, dtype=np.int64)
        row_of_leader[leaders] = np.arange(leaders.size)
        trials = chosen[row_of_leader[self._leader]]  # (units, n_cond * k)
        data = np.empty((n_cond * k, n_units, self.time.size), dtype=self._dtype)
        for u in range(n_units):
            data[:, u, :] = self._values[u][trials[u]]
        coords = {
            "trial": np.arange(n_cond * k),
            self.label: ("trial", np.repeat(conditions, k)),
            "unit": self.names,
            "time": self.time,
        }
        for key, vals in self.unit_coords.items():
            coords[key] = ("unit", vals)
        attrs = dict(self.attrs)
        attrs.update({"pseudo_population": 1, "label": self.label, "n_per_condition": k, "group_by": self.group_by or "", "replace": int(replace)})
        return xr.DataArray(data, dims=("trial", "unit", "time"), coords=coords, name="pseudo_population", attrs=attrs)


def pseudo_population(
    per_unit: Sequence,
    label: str,
    n_per_condition: int,
    seed=None,
    *,
    trial_subsets: Sequence | None = None,
    on_mismatch: str = "raise",
    group_by: str | None = None,
    replace: bool = False,
):
    """Draw a pseudo-population from per-unit ``(trial, time)`` responses.

    Parameters
    ----------
    per_unit : list of xarray.DataArray
        One array per unit, dims ``(trial, time)`` (e.g. from :func:`align_units`), each
        with a coordinate ``label`` along ``trial``; all share the same ``time`` coordinate.
    label : str
        Name of the trial coordinate that defines conditions (e.g. ``"stimulus_ID"``).
    n_per_condition : int
        Pseudo-trials per condition (``k``); each unit needs ``k`` trials per condition
        unless ``replace=True``.  Without replacement, the ``k`` trials of a unit for a
        condition are distinct.
    seed : int, numpy.random.Generator or None
        Seed of the draw (the same seed gives the same population).
    trial_subsets : list of int arrays, optional
        Per unit, the trial indices (positions along ``trial``) it may draw from, e.g. the
        training trials of a cross-validation split.
    on_mismatch : {"raise", "intersect"}
        Units whose condition sets differ raise :class:`ValueError` listing the differences,
        or (``"intersect"``) only the conditions every unit has are used.
    group_by : str, optional
        Scalar coordinate/attribute (e.g. ``"session_ID"``) naming units recorded together:
        units of a group draw the *same* trials (they must have identical labels and
        subsets).
    replace : bool
        Draw with replacement (allows conditions with fewer than ``k`` trials).

    Returns
    -------
    xarray.DataArray
        dims ``(trial, unit, time)``, shape ``(n_conditions * k, n_units, n_time)``, the dtype
        of the inputs; pseudo-trials ordered by condition (sorted as strings), ``k`` each;
        coordinate ``label`` (the condition) along ``trial``; ``unit`` names; scalar unit
        metadata that every unit has becomes a ``unit`` coordinate.

    Raises
    ------
    ValueError
        Empty input, missing ``label`` coordinate, mismatched times or labels, too few trials.

    Notes
    -----
    For many draws from the same units (cross-validation), build a
    :class:`PseudoPopulationSampler` once and call its ``sample`` method.
    """
    sampler = PseudoPopulationSampler(per_unit, label, group_by=group_by)
    return sampler.sample(n_per_condition, seed, trial_subsets=trial_subsets, on_mismatch=on_mismatch, replace=replace)
