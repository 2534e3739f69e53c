"""Cross-validation engine shared by every decoding function (private).

Data come in two forms and are reduced to one: a stream of splits
``(X_train, y_train, X_test, y_test)`` with ``X`` of shape ``(n, n_unit, n_time)``
(float64) and ``y`` integer class codes ``0..n_class-1`` (classes in sorted order).

- simultaneous recordings: one DataArray ``(trial, unit[, time])``; splits come from a
  scikit-learn splitter (default :class:`~sklearn.model_selection.RepeatedStratifiedKFold`);
- pseudo-populations: a list of per-unit DataArrays ``(trial[, time])`` whose units were
  not recorded together; every repeat draws a new pseudo-population and its folds are
  built from disjoint sets of each unit's trials (see :func:`pseudo_splits`).

The predictors then fit on ``X_train`` only: z-scoring statistics, class templates and
classifier weights never see a test row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from sklearn.base import clone

from .._validation import check_choice, check_int
from ._classifiers import CLASSIFIERS, classifier_name, make_classifier

__all__ = ["pseudo_splits"]


@dataclass
class _Prepared:
    """Validated data in array form."""

    kind: str  # "simultaneous" or "pseudo"
    classes: np.ndarray  # sorted unique labels, shape (C,)
    time: np.ndarray | None  # time coordinate values or None when data have no time dim
    time_attrs: dict = field(default_factory=dict)
    # simultaneous
    X: np.ndarray | None = None  # (trial, unit, T)
    y: np.ndarray | None = None  # (trial,) codes
    # pseudo
    units: list[np.ndarray] = field(default_factory=list)  # each (trial_u, T)
    codes: list[np.ndarray] = field(default_factory=list)  # each (trial_u,)

    @property
    def n_class(self) -> int:
        return int(self.classes.size)

    @property
    def n_time(self) -> int:
        if self.kind == "simultaneous":
            return int(self.X.shape[2])
        return int(self.units[0].shape[1])


def _values(da: xr.DataArray, name: str) -> np.ndarray:
    vals = np.asarray(da.values)
    if vals.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got dtype {vals.dtype}")
    vals = vals.astype(np.float64)
    if not np.isfinite(vals).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return vals


def _labels(da: xr.DataArray, label: str, name: str) -> np.ndarray:
    if label not in da.coords:
        raise ValueError(f"{name} has no coordinate {label!r} (the class label of each trial)")
    lab = da.coords[label]
    if lab.dims != ("trial",):
        raise ValueError(f"{name}.coords[{label!r}] must lie along 'trial', got dims {lab.dims}")
    return np.asarray(lab.values)


def prepare(data, label: str) -> _Prepared:
    """Validate ``data`` (DataArray or list of per-unit DataArrays) into a :class:`_Prepared`."""
    if not isinstance(label, str):
        raise TypeError(f"label must be a str (a coordinate name), got {type(label).__name__}")
    if isinstance(data, xr.DataArray):
        dims = set(data.dims)
        if dims not in ({"trial", "unit"}, {"trial", "unit", "time"}):
            raise ValueError(f"data must have dims (trial, unit) or (trial, unit, time), got {data.dims}")
        has_time = "time" in dims
        da = data.transpose("trial", "unit", *(("time",) if has_time else ()))
        X = _values(da, "data")
        if not has_time:
            X = X[:, :, None]
        if X.shape[0] < 2 or X.shape[1] < 1 or X.shape[2] < 1:
            raise ValueError(f"data must have >= 2 trials, >= 1 unit and >= 1 time bin, got shape {da.shape}")
        labels = _labels(da, label, "data")
        classes, y = np.unique(labels, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"data.coords[{label!r}] must contain at least 2 classes, got {classes.size}")
        time = np.asarray(da["time"].values) if has_time and "time" in da.coords else (np.arange(X.shape[2]) if has_time else None)
        attrs = dict(da["time"].attrs) if has_time and "time" in da.coords else {}
        return _Prepared("simultaneous", classes, time, attrs, X=X, y=y.astype(np.intp))
    if isinstance(data, (list, tuple)):
        if len(data) < 1:
            raise ValueError("data must contain at least one unit")
        vals, labs = [], []
        ref_time = None
        for i, da in enumerate(data):
            name = f"data[{i}]"
            if not isinstance(da, xr.DataArray):
                raise TypeError(f"{name} must be an xarray.DataArray (trial[, time]), got {type(da).__name__}")
            if set(da.dims) not in ({"trial"}, {"trial", "time"}):
                raise ValueError(f"{name} must have dims (trial,) or (trial, time), got {da.dims}")
            has_time = "time" in da.dims
            if i == 0:
                first_has_time = has_time
            elif has_time != first_has_time:
                raise ValueError(f"{name} differs from data[0] in having a time dimension")
            da = da.transpose("trial", *(("time",) if has_time else ()))
            v = _values(da, name)
            v = v if has_time else v[:, None]
            if v.shape[0] < 1 or v.shape[1] < 1:
                raise ValueError(f"{name} is empty, shape {da.shape}")
            t = np.asarray(da["time"].values) if has_time and "time" in da.coords else np.arange(v.shape[1])
            if ref_time is None:
                ref_time, attrs = t, (dict(da["time"].attrs) if has_time and "time" in da.coords else {})
            elif t.shape != ref_time.shape or not np.array_equal(t, ref_time):
                raise ValueError(f"{name} has time coordinates different from data[0]")
            vals.append(v)
            labs.append(_labels(da, label, name))
        classes = np.unique(np.concatenate([np.asarray(lab) for lab in labs]))
        if classes.size < 2:
            raise ValueError(f"data labels must contain at least 2 classes, got {classes.size}")
        codes = []
        for i, lab in enumerate(labs):
            c = np.searchsorted(classes, lab).astype(np.intp)
            missing = np.setdiff1d(np.arange(classes.size), c)
            if missing.size:
                raise ValueError(f"data[{i}] has no trial of class {classes[missing[0]]!r}; every unit needs every class")
            codes.append(c)
        return _Prepared("pseudo", classes, ref_time if first_has_time else None, attrs, units=vals, codes=codes)
    raise TypeError(
        f"data must be an xarray.DataArray (trial, unit[, time]) or a list of per-unit DataArrays, got {type(data).__name__}"
    )


# ----------------------------------------------------------------------------- splits


def _class_positions(codes: list[np.ndarray], n_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Trial indices of each unit grouped by class: ``pos (U, C, maxn)`` padded with 0, ``counts (U, C)``."""
    counts = np.stack([np.bincount(c, minlength=n_class) for c in codes])
    pos = np.zeros((len(codes), n_class, max(1, int(counts.max()))), dtype=np.intp)
    for u, c in enumerate(codes):
        order = np.argsort(c, kind="stable")
        start = 0
        for k in range(n_class):
            n = counts[u, k]
            pos[u, k, :n] = order[start : start + n]
            start += n
    return pos, counts


def _padded(units: list[np.ndarray]) -> np.ndarray:
    """Stack per-unit trial arrays into ``(U, max_trials, T)`` (zero padded)."""
    n_max = max(v.shape[0] for v in units)
    out = np.zeros((len(units), n_max, units[0].shape[1]), dtype=np.float64)
    for u, v in enumerate(units):
        out[u, : v.shape[0]] = v
    return out


def _pseudo_stream(
    prep: _Prepared,
    n_splits: int,
    n_repeats: int,
    n_per_condition: int | None,
    rng: np.random.Generator,
    codes: list[np.ndarray] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    codes = prep.codes if codes is None else codes
    C = prep.n_class
    pos, counts = _class_positions(codes, C)
    npc = _check_npc(n_per_condition, n_splits, int(counts.min()))
    data = _padded(prep.units)
    U = data.shape[0]
    valid = np.arange(pos.shape[2])[None, None, :] < counts[:, :, None]
    fold = np.tile(np.arange(npc) % n_splits, C)  # fold of each pseudo-trial (class-major rows)
    y = np.repeat(np.arange(C, dtype=np.intp), npc)
    uidx = np.arange(U)[:, None, None]
    for _ in range(n_repeats):
        # A random permutation of each unit's trials of each class (argsort of uniform
        # keys, padding sent last); the first npc are used, so every pseudo-trial of a
        # repeat uses a distinct trial of each unit and folds share no trial.
        keys = np.where(valid, rng.random(pos.shape), np.inf)
        chosen = np.take_along_axis(pos, np.argsort(keys, axis=2)[:, :, :npc], axis=2)  # (U, C, npc)
        X = data[uidx, chosen]  # (U, C, npc, T)
        X = np.ascontiguousarray(X.transpose(1, 2, 0, 3).reshape(C * npc, U, -1))
        for k in range(n_splits):
            test = fold == k
            yield X[~test], y[~test], X[test], y[test]


def _check_npc(n_per_condition, n_splits: int, available: int) -> int:
    if n_per_condition is None:
        npc = (available // n_splits) * n_splits
        if npc < n_splits:
            raise ValueError(
                f"every unit needs >= n_splits={n_splits} trials of every class; the smallest count is {available}"
            )
        return npc
    npc = check_int(n_per_condition, "n_per_condition", min_value=n_splits)
    if npc > available:
        raise ValueError(f"n_per_condition={npc} exceeds the smallest per-unit class count {available}")
    return npc


def selection_mask(data, selection, name: str) -> np.ndarray:
    """Trials chosen by a ``train=`` / ``test=`` selection: bool mask over ``trial``.

    ``selection`` is a dict ``{coordinate: value or list of values}`` (coordinates along
    ``trial``; a trial is chosen when it matches every entry) or a bool array (n_trial,).
    """
    n = data.sizes["trial"]
    if isinstance(selection, dict):
        if not selection:
            raise ValueError(f"{name} must name at least one trial coordinate")
        mask = np.ones(n, dtype=bool)
        for coord, values in selection.items():
            if coord not in data.coords or data.coords[coord].dims != ("trial",):
                raise ValueError(f"{name}: data has no coordinate {coord!r} along 'trial'")
            wanted = np.asarray(values).reshape(-1)
            mask &= np.isin(np.asarray(data.coords[coord].values), wanted)
    elif isinstance(selection, np.ndarray):
        if selection.dtype != np.bool_ or selection.shape != (n,):
            raise ValueError(f"{name} as an array must be a bool mask of shape ({n},), got {selection.dtype} {selection.shape}")
        mask = selection.copy()
    else:
        raise TypeError(f"{name} must be a dict {{coordinate: values}} or a bool array over trials, got {type(selection).__name__}")
    if not mask.any():
        raise ValueError(f"{name} selects no trial")
    return mask


def _selection_stream(prep: _Prepared, cv, y: np.ndarray, train: np.ndarray, test: np.ndarray):
    """Cross-condition splits: fit on ``train`` trials, test on ``test`` trials.

    Disjoint selections give one split (every train trial fits, every test trial is
    scored).  Overlapping selections are cross-validated so that no trial is on both
    sides: ``cv`` folds the trials of either selection (stratified by class); split k
    fits on the train-selected trials outside fold k and scores the test-selected trials
    in fold k (folds without a test trial are skipped).  Identical selections are thus
    ordinary cross-validation of the selected trials.
    """
    if not overlap((train, test)):
        yield prep.X[train], y[train], prep.X[test], y[test]
        return
    pool = np.flatnonzero(train | test)
    for tr, te in cv.split(np.zeros((pool.size, 1)), y[pool]):
        tr_idx = pool[tr][train[pool[tr]]]
        te_idx = pool[te][test[pool[te]]]
        if te_idx.size:
            yield prep.X[tr_idx], y[tr_idx], prep.X[te_idx], y[te_idx]


def overlap(select) -> bool:
    """Whether the train and test selections share a trial (per unit for pseudo-populations)."""
    train, test = select
    if isinstance(train, list):
        return any(bool((a & b).any()) for a, b in zip(train, test))
    return bool((train & test).any())


def _pseudo_selection_plan(prep: _Prepared, codes: list[np.ndarray], select, n_per_condition: int | None):
    """Per side (train, test): each unit's trial indices by class, counts, pseudo-trials per class."""
    plan = []
    for side, masks in zip(("train", "test"), select):
        idx = [np.flatnonzero(m) for m in masks]
        pos, counts = _class_positions([c[i] for c, i in zip(codes, idx)], prep.n_class)
        for u, i in enumerate(idx):  # positions within the selection -> trial indices of the unit
            pos[u] = i[pos[u]] if i.size else 0
        available = int(counts.min())
        if available < 1:
            u, k = np.argwhere(counts == counts.min())[0]
            raise ValueError(f"{side} selects no trial of class {prep.classes[k].item()!r} for unit {u}; every unit needs every class on both sides")
        if n_per_condition is None:
            npc = available
        else:
            npc = check_int(n_per_condition, "n_per_condition", min_value=1)
            if npc > available:
                raise ValueError(f"n_per_condition={npc} exceeds the smallest per-unit class count {available} of the {side} selection")
        plan.append((pos, counts, npc))
    return plan


def _pseudo_selection_stream(prep: _Prepared, codes: list[np.ndarray], select, n_repeats: int, n_per_condition, rng):
    """Cross-condition pseudo-populations: one split per repeat.

    Each repeat draws, for every unit and class, ``npc`` distinct trials among the
    unit's train-selected trials and, independently, among its test-selected trials
    (disjoint from them), and joins draw j of every unit into pseudo-trial j, as
    :func:`pseudo_splits` does within a fold.  The classifier is fitted on the training
    pseudo-trials and scores the test pseudo-trials.
    """
    C = prep.n_class
    data = _padded(prep.units)
    uidx = np.arange(data.shape[0])[:, None, None]
    plan = _pseudo_selection_plan(prep, codes, select, n_per_condition)
    for _ in range(n_repeats):
        out = []
        for pos, counts, npc in plan:
            valid = np.arange(pos.shape[2])[None, None, :] < counts[:, :, None]
            keys = np.where(valid, rng.random(pos.shape), np.inf)
            chosen = np.take_along_axis(pos, np.argsort(keys, axis=2)[:, :, :npc], axis=2)  # (U, C, npc)
            X = data[uidx, chosen]  # (U, C, npc, T)
            out += [np.ascontiguousarray(X.transpose(1, 2, 0, 3).reshape(C * npc, data.shape[0], -1)), np.repeat(np.arange(C, dtype=np.intp), npc)]
        yield tuple(out)


def _simultaneous_stream(prep: _Prepared, cv, y: np.ndarray):
    X2 = prep.X.reshape(prep.X.shape[0], -1)
    for train, test in cv.split(X2, y):
        yield prep.X[train], y[train], prep.X[test], y[test]


def make_cv(n_splits: int, n_repeats: int, seed: int):
    from sklearn.model_selection import RepeatedStratifiedKFold

    return RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)


def pseudo_splits(
    data: Sequence[xr.DataArray],
    *,
    label: str = "label",
    n_splits: int = 5,
    n_repeats: int = 1,
    n_per_condition: int | None = None,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Cross-validation splits of pseudo-populations built inside each split.

    Each repeat draws, for every unit and class, ``n_per_condition`` distinct trials at
    random (without replacement) and deals them round-robin into ``n_splits`` folds;
    pseudo-trial ``j`` of a class joins, for every unit, that unit's ``j``-th drawn trial
    (Meyers 2013, Neural Decoding Toolbox).  For fold ``k`` the test pseudo-trials are
    those dealt to ``k`` and the training pseudo-trials are built only from the other
    folds' trials, so no recorded trial contributes to both sides of a split.

    Parameters
    ----------
    data : list of xarray.DataArray, each (trial[, time]) with a ``label`` coord on trial
        One array per unit; units may have different numbers of trials.
    label : str
        Name of the class-label coordinate.
    n_splits : int, >= 2
    n_repeats : int, >= 1
        Number of independent pseudo-populations (resamples).
    n_per_condition : int, optional
        Pseudo-trials per class per repeat (>= n_splits, <= the smallest per-unit class
        count).  Default: the smallest count rounded down to a multiple of ``n_splits``.
    seed : int

    Yields
    ------
    X_train : np.ndarray of float64, shape (n_train, n_unit, n_time)
    y_train : np.ndarray of intp, shape (n_train,)
        Class codes, indices into the sorted unique labels.
    X_test : np.ndarray of float64, shape (n_test, n_unit, n_time)
    y_test : np.ndarray of intp, shape (n_test,)
    """
    prep = prepare(list(data) if isinstance(data, tuple) else data, label)
    if prep.kind != "pseudo":
        raise TypeError("data must be a list of per-unit DataArrays (trial[, time])")
    n_splits = check_int(n_splits, "n_splits", min_value=2)
    n_repeats = check_int(n_repeats, "n_repeats", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    rng = np.random.default_rng(seed)
    # validate n_per_condition eagerly (a generator would defer the error)
    _, counts = _class_positions(prep.codes, prep.n_class)
    _check_npc(n_per_condition, n_splits, int(counts.min()))
    return _pseudo_stream(prep, n_splits, n_repeats, n_per_condition, rng)


# ----------------------------------------------------------------------------- predictors


def _scale_stats(n: int, sums: np.ndarray, sumsq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation from sums, as StandardScaler uses them.

    ``var = (n * sumsq - sums**2) / n**2`` is exact for integer-valued data (spike
    counts), so a constant feature gets exactly 0 and, as in StandardScaler, scale 1.
    For float data a variance within rounding of zero (relative to the mean) also
    counts as constant.
    """
    mu = sums / n
    var = np.maximum(n * sumsq - sums * sums, 0.0) / (float(n) * n)
    eps = np.finfo(np.float64).eps
    constant = var <= (n * eps * mu) ** 2
    sd = np.sqrt(var)
    sd[constant] = 1.0
    return mu, sd


def _mcc_weights(means: np.ndarray, mu: np.ndarray | None, sd: np.ndarray | None):
    """Linear scoring weights equivalent to z-scoring + max-correlation.

    For each training time ``s`` the template of class ``c`` is the class mean of the
    (z-scored) training rows; the correlation of a test pattern ``z`` with it equals
    ``sum_u z_u w_cu / ||z - mean(z)||`` with ``w_c`` the centred, unit-norm template.
    The denominator is the same for every class, so the argmax only needs the numerator,
    which is linear in the raw test values: ``sum_u x_u (w_cu / sd_u) - sum_u mu_u w_cu / sd_u``.
    That turns the whole time (x time) sweep into a few batched matrix products.

    Parameters
    ----------
    means : (C, U, T) class means of the raw training rows
    mu, sd : (U, T) z-scoring statistics, or None for no z-scoring

    Returns
    -------
    W : (C, U, T), b : (C, T)
    """
    tmpl = means if mu is None else (means - mu) / sd
    tc = tmpl - tmpl.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("cut,cut->ct", tc, tc))
    safe = np.where(norm > 0, norm, 1.0)
    W = np.where(norm[:, None, :] > 0, tc / safe[:, None, :], 0.0)
    if mu is None:
        return W, np.zeros(norm.shape)
    W /= sd
    return W, -np.einsum("cut,ut->ct", W, mu)


def _mcc_scores_predict(W: np.ndarray, b: np.ndarray, Xte: np.ndarray, generalize: bool) -> np.ndarray:
    """Class codes (m, T) or, with ``generalize``, (m, T_train, T_test) from test rows (m, U, T)."""
    C, U, T = W.shape
    if not generalize:
        scores = np.matmul(Xte.transpose(2, 0, 1), W.transpose(2, 1, 0))  # (T, m, C)
        scores += b.T[:, None, :]
        return np.argmax(scores, axis=2).T
    m, _, Tt = Xte.shape
    lhs = Xte.transpose(0, 2, 1).reshape(m * Tt, U)
    rhs = W.transpose(1, 2, 0).reshape(U, T * C)
    scores = (lhs @ rhs).reshape(m, Tt, T, C) + b.T[None, None]
    return np.argmax(scores, axis=3).transpose(0, 2, 1)


def _mcc_predict(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, n_class: int, zscore: bool, generalize: bool):
    """Max-correlation predictions for every time bin at once (or every train x test pair).

    Returns class codes of shape (n_test, T) or, with ``generalize``, (n_test, T_train, T_test).
    """
    n, U, T = Xtr.shape
    onehot = np.zeros((n_class, n))
    onehot[ytr, np.arange(n)] = 1.0
    onehot /= onehot.sum(axis=1, keepdims=True)
    means = (onehot @ Xtr.reshape(n, U * T)).reshape(n_class, U, T)
    if zscore:
        mu = Xtr.mean(axis=0)
        sd = np.sqrt(Xtr.var(axis=0))
        sd[sd == 0] = 1.0  # constant feature: StandardScaler leaves it unscaled
    else:
        mu = sd = None
    W, b = _mcc_weights(means, mu, sd)
    return _mcc_scores_predict(W, b, Xte, generalize)


def _outer_zscore(Xtr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training mean and scale per (unit, time), as StandardScaler computes them."""
    n = Xtr.shape[0]
    mu = Xtr.mean(axis=0)
    d = Xtr - mu
    var = np.einsum("nut,nut->ut", d, d) / n - (d.sum(axis=0) / n) ** 2
    eps = np.finfo(np.float64).eps
    sd = np.sqrt(np.maximum(var, 0.0))
    sd[var <= n * eps * var + (n * mu * eps) ** 2] = 1.0  # StandardScaler's constant-feature rule
    return mu, sd


def _lda_weights(Xtr: np.ndarray, ytr: np.ndarray, n_class: int):
    """Shrinkage-LDA weights for every time bin at once.

    Re-derives scikit-learn's ``LinearDiscriminantAnalysis(solver="lsqr",
    shrinkage="auto")`` batched over time: per class, the features are standardised
    (class mean, class standard deviation; scale 1 for constant features), the
    Ledoit-Wolf shrinkage (Ledoit & Wolf 2004, J. Multivar. Anal. 88:365) of the
    standardised covariance is computed in closed form, the shrunk covariance is
    rescaled and averaged with the class priors; then ``coef = cov^-1 means`` and
    ``intercept = -0.5 diag(means coef) + log(priors)``.

    Parameters
    ----------
    Xtr : (n, U, T) training rows (already z-scored by the caller if requested)
    ytr : (n,) class codes

    Returns
    -------
    W : (C, U, T), b : (C, T) -- scores are ``x @ W[:, :, t].T + b[:, t]``.
    """
    n, U, T = Xtr.shape
    Xt = Xtr.transpose(2, 0, 1)  # (T, n, U)
    eps = np.finfo(np.float64).eps
    priors = np.bincount(ytr, minlength=n_class) / n
    cov = np.zeros((T, U, U))
    means = np.zeros((n_class, T, U))
    eye = np.eye(U, dtype=bool)
    for c in range(n_class):
        Xg = Xt[:, ytr == c, :]
        n_c = Xg.shape[1]
        m = Xg.mean(axis=1, keepdims=True)
        means[c] = m[:, 0]
        D = Xg - m
        var = np.einsum("tnu,tnu->tu", D, D) / n_c - (D.sum(axis=1) / n_c) ** 2
        scale = np.sqrt(np.maximum(var, 0.0))
        scale[var <= n_c * eps * var + (n_c * m[:, 0] * eps) ** 2] = 1.0
        Z = D / scale[:, None, :]
        Z -= Z.mean(axis=1, keepdims=True)  # ledoit_wolf centres its input again
        emp = np.matmul(Z.transpose(0, 2, 1), Z) / n_c  # (T, U, U)
        Z2 = Z * Z
        trace_terms = Z2.sum(axis=1) / n_c  # (T, U): diagonal of emp
        mu = trace_terms.sum(axis=1) / U
        beta_ = np.einsum("tn,tn->t", Z2.sum(axis=2), Z2.sum(axis=2))  # sum of <Z2.T, Z2>
        delta_ = np.einsum("tuv,tuv->t", emp, emp)  # sum of squared <Z.T, Z> / n_c**2
        beta = (beta_ / n_c - delta_) / (U * n_c)
        delta = (delta_ - 2.0 * mu * trace_terms.sum(axis=1) + U * mu**2) / U
        beta = np.minimum(beta, delta)
        shrink = np.where(beta == 0, 0.0, beta / np.where(delta == 0, 1.0, delta))
        shrunk = (1.0 - shrink)[:, None, None] * emp
        shrunk[:, eye] += (shrink * mu)[:, None]
        cov += priors[c] * (scale[:, :, None] * shrunk * scale[:, None, :])
    rhs = means.transpose(1, 2, 0)  # (T, U, C)
    try:
        coef = np.linalg.solve(cov, rhs)
    except np.linalg.LinAlgError:  # singular (no shrinkage and n < U): minimum-norm least squares
        coef = np.stack([np.linalg.lstsq(cov[t], rhs[t], rcond=None)[0] for t in range(T)])
    with np.errstate(divide="ignore"):
        log_priors = np.log(priors)
    intercept = -0.5 * np.einsum("ctu,tuc->tc", means, coef) + log_priors  # (T, C)
    return coef.transpose(2, 1, 0), intercept.T


def _lda_predict(Xtr, ytr, Xte, n_class: int, zscore: bool, generalize: bool):
    """Shrinkage-LDA predictions, shape (m, T) or (m, T_train, T_test); see :func:`_lda_weights`."""
    if zscore:
        mu, sd = _outer_zscore(Xtr)
        W, b = _lda_weights((Xtr - mu) / sd, ytr, n_class)
        # fold the training z-scoring into the linear scores, so it also applies across times
        W = W / sd
        b = b - np.einsum("cut,ut->ct", W, mu)
    else:
        W, b = _lda_weights(Xtr, ytr, n_class)
    return _mcc_scores_predict(W, b, Xte, generalize)


def _mcc_pseudo_fast(prep, codes, n_splits, n_repeats, n_per_condition, rng, zscore, generalize):
    """Max-correlation decoding of pseudo-populations without materialising the splits.

    Same draws and folds as :func:`_pseudo_stream` (so the same accuracies), but each
    repeat's pseudo-population stays in the layout ``(U, C, npc, T)`` and training
    statistics of fold ``k`` are "all folds minus fold k" sums, so no training copy is
    made.  Yields per-split ``(pred, y_test)``.
    """
    C = prep.n_class
    pos, counts = _class_positions(codes, C)
    npc = _check_npc(n_per_condition, n_splits, int(counts.min()))
    data = _padded(prep.units)
    U = data.shape[0]
    valid = np.arange(pos.shape[2])[None, None, :] < counts[:, :, None]
    uidx = np.arange(U)[:, None, None]
    K = n_splits
    n_k = np.array([len(range(k, npc, K)) for k in range(K)])
    for _ in range(n_repeats):
        keys = np.where(valid, rng.random(pos.shape), np.inf)
        chosen = np.take_along_axis(pos, np.argsort(keys, axis=2)[:, :, :npc], axis=2)
        G = data[uidx, chosen]  # (U, C, npc, T); pseudo-trial j of class c is in fold j % K
        S = np.stack([G[:, :, k::K].sum(axis=2) for k in range(K)])  # (K, U, C, T)
        S_all = S.sum(axis=0)
        if zscore:
            Q = np.stack([np.einsum("ucjt,ucjt->ut", G[:, :, k::K], G[:, :, k::K]) for k in range(K)])  # (K, U, T)
            Q_all = Q.sum(axis=0)
        for k in range(K):
            n_tr = npc - n_k[k]
            Str = S_all - S[k]  # (U, C, T)
            means = (Str / n_tr).transpose(1, 0, 2)
            if zscore:
                mu, sd = _scale_stats(C * n_tr, Str.sum(axis=1), Q_all - Q[k])
            else:
                mu = sd = None
            W, b = _mcc_weights(means, mu, sd)
            Xte = G[:, :, k::K].transpose(1, 2, 0, 3).reshape(C * n_k[k], U, -1)
            yield _mcc_scores_predict(W, b, Xte, generalize), np.repeat(np.arange(C, dtype=np.intp), n_k[k])


def _generic_predict(est, Xtr, ytr, Xte, generalize: bool):
    """Fit a fresh clone of ``est`` per training time bin; predict the same bin or all bins."""
    m, U, Tt = Xte.shape
    T = Xtr.shape[2]
    if not generalize:
        out = np.empty((m, T), dtype=np.intp)
        for t in range(T):
            out[:, t] = clone(est).fit(Xtr[:, :, t], ytr).predict(Xte[:, :, t])
        return out
    out = np.empty((m, T, Tt), dtype=np.intp)
    flat = Xte.transpose(2, 0, 1).reshape(Tt * m, U)
    for s in range(T):
        out[:, s, :] = clone(est).fit(Xtr[:, :, s], ytr).predict(flat).reshape(Tt, m).T
    return out


_FAST = {"mcc": _mcc_predict, "lda": _lda_predict}


def _predictions(stream, fast: str | None, est, n_class: int, zscore: bool, generalize: bool):
    for Xtr, ytr, Xte, yte in stream:
        if np.unique(ytr).size < 2:
            raise ValueError("a training fold contains a single class; use fewer splits")
        if fast:
            yield _FAST[fast](Xtr, ytr, Xte, n_class, zscore, generalize), yte
        else:
            yield _generic_predict(est, Xtr, ytr, Xte, generalize), yte


def _shuffle_within(codes: np.ndarray, train: np.ndarray, test: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels permuted within each of the trial groups train-only, test-only, both, neither.

    With cross-condition selections the null keeps each side's class counts (a global
    shuffle could leave a class without a training or test trial).
    """
    out = codes.copy()
    group = train.astype(np.int8) + 2 * test.astype(np.int8)
    for g in range(4):
        idx = np.flatnonzero(group == g)
        out[idx] = codes[idx[rng.permutation(idx.size)]]
    return out


@dataclass
class _Outcome:
    accuracy: np.ndarray  # (n_split, T) or (n_split, T, T)
    confusion: np.ndarray | None  # (T, C, C) counts (diagonal mode only)


def run(
    prep: _Prepared,
    *,
    classifier,
    zscore: bool,
    n_splits: int,
    n_repeats: int,
    n_per_condition: int | None,
    cv,
    seed: int,
    generalize: bool = False,
    shuffle_rng: np.random.Generator | None = None,
    select: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Outcome:
    """Run the whole cross-validation; with ``shuffle_rng`` the labels are permuted first.

    ``select`` = (train mask, test mask) over trials (simultaneous data) or (list of
    per-unit train masks, list of per-unit test masks) (pseudo-populations):
    cross-condition generalisation, see :func:`_selection_stream` and
    :func:`_pseudo_selection_stream`.
    """
    C = prep.n_class
    rng = np.random.default_rng(seed)
    codes = None
    if prep.kind == "pseudo":
        codes = prep.codes
        if shuffle_rng is not None:
            # each unit's labels are permuted independently: the units were recorded apart
            if select is None:
                codes = [shuffle_rng.permutation(c) for c in codes]
            else:
                codes = [_shuffle_within(c, tr, te, shuffle_rng) for c, tr, te in zip(codes, *select)]
        if select is None:
            stream = _pseudo_stream(prep, n_splits, n_repeats, n_per_condition, rng, codes)
        else:
            stream = _pseudo_selection_stream(prep, codes, select, n_repeats, n_per_condition, rng)
    else:
        if shuffle_rng is None:
            y = prep.y
        elif select is None:
            y = shuffle_rng.permutation(prep.y)
        else:
            y = _shuffle_within(prep.y, *select, shuffle_rng)
        splitter = cv if cv is not None else make_cv(n_splits, n_repeats, seed)
        if select is None:
            stream = _simultaneous_stream(prep, splitter, y)
        else:
            stream = _selection_stream(prep, splitter, y, *select)
    # "mcc" and "lda" run batched re-implementations (equal predictions, tested against
    # the scikit-learn estimators); anything else is fitted per time bin.
    fast = classifier if isinstance(classifier, str) and classifier in _FAST else None
    est = None if fast else make_classifier(classifier, zscore=zscore)
    if fast == "mcc" and prep.kind == "pseudo" and select is None:
        predictions = _mcc_pseudo_fast(prep, codes, n_splits, n_repeats, n_per_condition, rng, zscore, generalize)
    else:
        predictions = _predictions(stream, fast, est, C, zscore, generalize)
    accs = []
    T = prep.n_time
    confusion = None if generalize else np.zeros(T * C * C, dtype=np.int64)
    for pred, yte in predictions:
        if generalize:
            accs.append((pred == yte[:, None, None]).mean(axis=0))
        else:
            accs.append((pred == yte[:, None]).mean(axis=0))
            flat = (np.arange(T)[None, :] * C + yte[:, None]) * C + pred
            confusion += np.bincount(flat.ravel(), minlength=T * C * C)
    return _Outcome(np.asarray(accs), None if generalize else confusion.reshape(T, C, C))


def check_common(classifier, zscore, n_splits, n_repeats, seed, cv):
    """Validate the arguments shared by the public functions."""
    if isinstance(classifier, str):
        check_choice(classifier, "classifier", CLASSIFIERS)
    else:
        make_classifier(classifier, zscore=False)  # raises TypeError for non-estimators
    if not isinstance(zscore, bool):
        raise TypeError(f"zscore must be a bool, got {type(zscore).__name__}")
    n_splits = check_int(n_splits, "n_splits", min_value=2)
    n_repeats = check_int(n_repeats, "n_repeats", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    if cv is not None and not hasattr(cv, "split"):
        raise TypeError(f"cv must be a scikit-learn splitter (with .split), got {type(cv).__name__}")
    return n_splits, n_repeats, seed


def check_class_counts(prep: _Prepared, n_splits: int, cv, select=None) -> None:
    if prep.kind == "simultaneous" and cv is None:
        if select is not None:
            train, test = select
            if not overlap(select):
                return  # disjoint selections: one fit on all train trials, no folds
            classes = prep.y[train | test]  # the trials the folds are made of
            smallest = int(np.bincount(classes)[np.unique(classes)].min())
            if smallest < n_splits:
                raise ValueError(
                    f"train and test overlap, so their trials are cross-validated: every class among them needs "
                    f">= n_splits={n_splits} trials; the smallest class has {smallest}"
                )
            return
        smallest = int(np.bincount(prep.y).min())
        if smallest < n_splits:
            raise ValueError(f"every class needs >= n_splits={n_splits} trials; the smallest class has {smallest}")


def result_attrs(prep: _Prepared, classifier, zscore, n_splits, n_repeats, cv, n_split_total) -> dict:
    attrs = {
        "classifier": classifier_name(classifier),
        "zscore": int(zscore),
        "folds": int(n_splits) if cv is None else str(cv),
        "repeats": int(n_repeats) if cv is None else 0,  # 0: folds and repeats come from ``cv``
        "n_splits_total": int(n_split_total),
        "chance": 1.0 / prep.n_class,
        "n_classes": prep.n_class,
        "population": prep.kind,
        "units": "fraction correct",
    }
    return attrs
