"""Cross-validated, time-resolved decoding of conditions from population responses."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import check_array, check_choice, check_float, check_int
from . import _engine

__all__ = ["confusion_matrix", "decode", "onset_latency", "permutation_test", "temporal_generalization"]

_COMMON_DOC = """
    data : xarray.DataArray or list of xarray.DataArray
        Either one simultaneously recorded population, dims ``(trial, unit)`` or
        ``(trial, unit, time)``, or a pseudo-population: a list with one DataArray per
        unit, dims ``(trial,)`` or ``(trial, time)`` (units may have different trials;
        all share the time coordinate).  Values are responses (e.g. spike counts); the
        class of each trial is the coordinate ``label`` along ``trial``.
    label : str
        Name of the class-label coordinate.
    classifier : {"mcc", "lda", "svm", "logistic"} or scikit-learn classifier
        See :func:`make_classifier`.  ``"mcc"`` (default, as in Meyers' toolbox) and
        ``"lda"`` run implementations batched over time bins whose predictions equal
        those of the scikit-learn pipelines from :func:`make_classifier` (up to
        floating-point ties); other classifiers are fitted once per (split, time bin).
    zscore : bool
        Z-score every feature with statistics of the training fold only.
    n_splits : int, >= 2
        Number of stratified cross-validation folds.
    n_repeats : int, >= 1
        Repetitions of the K-fold with new random fold assignments; for a
        pseudo-population each repeat also draws a new pseudo-population (a "resample").
    n_per_condition : int, optional
        Pseudo-populations only: pseudo-trials per class per repeat (see
        :func:`pseudo_splits`).
    cv : scikit-learn splitter, optional
        Simultaneous data only: overrides ``n_splits``/``n_repeats``/``seed``
        (e.g. to reproduce :func:`sklearn.model_selection.cross_val_score` exactly).
    seed : int
        Seed of fold assignment and pseudo-population draws.
    train, test : dict or bool np.ndarray (n_trial,), optional
        Cross-condition generalisation: fit on the trials selected by ``train`` and
        score the trials selected by ``test``, e.g.
        ``train={"position": 0}, test={"position": 1}`` to train at one retinal
        position and test at another.  A dict maps trial coordinates to a value or a
        list of values (a trial is selected when it matches every entry); an array is a
        trial mask.  Disjoint selections give a single fit on all train trials (no
        folds; ``n_splits``, ``n_repeats``, ``cv`` unused).  Overlapping selections are
        cross-validated over the trials of either selection with the usual folds, each
        split fitting on the train-selected trials outside the held-out fold and scoring
        the test-selected trials inside it, so no trial is on both sides; identical
        selections are ordinary cross-validation of those trials.  For a
        pseudo-population the selections (dicts, applied to every unit's trial
        coordinates) must be disjoint; each repeat draws new training pseudo-trials from
        the train-selected trials and new test pseudo-trials from the test-selected
        ones (``n_per_condition`` per class on each side, default the smallest
        available), one split per repeat.  Give both or neither."""


def _with_common_doc(func):
    # The parameter list shared by every entry point is written once (_COMMON_DOC).
    func.__doc__ = func.__doc__.replace("    %(common)s", _COMMON_DOC.strip("\n"))
    return func


def _prepare_all(data, label, classifier, zscore, n_splits, n_repeats, n_per_condition, cv, seed, train=None, test=None):
    """Validated data, folds, seed and the (train, test) trial masks (None without selections)."""
    n_splits, n_repeats, seed = _engine.check_common(classifier, zscore, n_splits, n_repeats, seed, cv)
    prep = _engine.prepare(data, label)
    select = None
    if (train is None) != (test is None):
        raise ValueError("train and test must be given together (cross-condition generalisation)")
    if train is not None:
        if prep.kind == "simultaneous":
            select = (_engine.selection_mask(data, train, "train"), _engine.selection_mask(data, test, "test"))
        else:
            select = _pseudo_select(data, train, test)
            if cv is not None:
                raise ValueError("cv applies to simultaneous recordings only; pseudo-populations use n_splits")
            _engine._pseudo_selection_plan(prep, prep.codes, select, n_per_condition)  # validate eagerly
            return prep, n_splits, n_repeats, seed, select
    if prep.kind == "pseudo":
        if cv is not None:
            raise ValueError("cv applies to simultaneous recordings only; pseudo-populations use n_splits")
        _, counts = _engine._class_positions(prep.codes, prep.n_class)
        _engine._check_npc(n_per_condition, n_splits, int(counts.min()))
    elif n_per_condition is not None:
        raise ValueError("n_per_condition applies to pseudo-populations (a list of per-unit arrays) only")
    _engine.check_class_counts(prep, n_splits, cv, select)
    return prep, n_splits, n_repeats, seed, select


def _pseudo_select(units, train, test):
    """Per-unit train / test masks of a pseudo-population; the selections must be disjoint."""
    if not isinstance(train, dict) or not isinstance(test, dict):
        raise TypeError("for a pseudo-population, train and test must be dicts {coordinate: values} (each unit has its own trials)")
    masks = ([], [])
    for i, da in enumerate(units):
        for side, sel, out in (("train", train, masks[0]), ("test", test, masks[1])):
            try:
                out.append(_engine.selection_mask(da, sel, f"{side} (data[{i}])"))
            except ValueError as err:
                if "selects no trial" not in str(err):
                    raise
                out.append(np.zeros(da.sizes["trial"], dtype=bool))  # reported per class by the plan
    if _engine.overlap(masks):
        raise ValueError(
            "for a pseudo-population, train and test must select disjoint trials (pseudo-trials are drawn "
            "separately on each side, without folds)"
        )
    return masks


def _selection_attrs(attrs: dict, select, train, test, prep) -> dict:
    """Record a cross-condition selection in the result's attrs (netCDF-safe strings)."""
    if select is not None:
        cross_validated = _engine.overlap(select)
        attrs.update(
            train=str(train) if isinstance(train, dict) else f"mask of {int(select[0].sum())} trials",
            test=str(test) if isinstance(test, dict) else f"mask of {int(select[1].sum())} trials",
            cross_validated=int(cross_validated),
        )
        if not cross_validated:
            attrs["folds"] = 1
            if prep.kind == "simultaneous":
                attrs["repeats"] = 1  # one deterministic split; pseudo-populations redraw per repeat
    return attrs


def _time_coord(prep) -> dict:
    return {"attrs": prep.time_attrs, "values": prep.time}


def _label_time(result: xr.DataArray, prep) -> xr.DataArray:
    """Give ``result`` the data's time coordinate, or drop its single time bin."""
    if prep.time is None:
        return result.isel(time=0, drop=True)
    return result.assign_coords(time=xr.Variable("time", prep.time, prep.time_attrs))


@_with_common_doc
def decode(
    data,
    *,
    label: str = "label",
    classifier="mcc",
    zscore: bool = True,
    n_splits: int = 5,
    n_repeats: int = 1,
    n_per_condition: int | None = None,
    cv=None,
    seed: int = 0,
    train=None,
    test=None,
    keep_splits: bool = False,
) -> xr.DataArray:
    """Cross-validated decoding accuracy, per time bin when the data have a time axis.

    A classifier is trained on the training folds at each time bin and tested on the
    held-out fold at the same bin; the accuracy (fraction correct) of each split is
    averaged over all splits (folds x repeats), which for one repeat is exactly the mean
    of :func:`sklearn.model_selection.cross_val_score` with the same folds.

    With ``train`` / ``test`` selections this is cross-condition generalisation: e.g.
    ``decode(data, label="object", train={"position": 0}, test={"position": 1})`` fits
    the object classifier on the trials at position 0 and scores it on those at
    position 1, per time bin (:func:`temporal_generalization` does the same across time).

    Parameters
    ----------
    %(common)s
    keep_splits : bool
        Return every split's accuracy (leading dim ``split``) instead of the mean.

    Returns
    -------
    xarray.DataArray
        dims ``(time,)`` (or ``()`` without a time axis), with a leading ``split`` dim
        when ``keep_splits``; attrs: ``classifier``, ``folds``, ``repeats``, ``chance``
        (1 / n_classes), ``n_classes``, ``population``; with ``train`` / ``test`` also
        ``train``, ``test`` (the selections, as text) and ``cross_validated`` (0 for
        disjoint selections, then ``folds`` is 1).
    """
    prep, n_splits, n_repeats, seed, select = _prepare_all(
        data, label, classifier, zscore, n_splits, n_repeats, n_per_condition, cv, seed, train, test
    )
    if not isinstance(keep_splits, bool):
        raise TypeError(f"keep_splits must be a bool, got {type(keep_splits).__name__}")
    out = _engine.run(
        prep, classifier=classifier, zscore=zscore, n_splits=n_splits, n_repeats=n_repeats,
        n_per_condition=n_per_condition, cv=cv, seed=seed, select=select,
    )
    attrs = _selection_attrs(_engine.result_attrs(prep, classifier, zscore, n_splits, n_repeats, cv, out.accuracy.shape[0]), select, train, test, prep)
    acc = out.accuracy if keep_splits else out.accuracy.mean(axis=0)
    dims = (("split",) if keep_splits else ()) + ("time",)
    result = xr.DataArray(acc, dims=dims, name="accuracy", attrs=attrs)
    return _label_time(result, prep)


@_with_common_doc
def temporal_generalization(
    data,
    *,
    label: str = "label",
    classifier="mcc",
    zscore: bool = True,
    n_splits: int = 5,
    n_repeats: int = 1,
    n_per_condition: int | None = None,
    cv=None,
    seed: int = 0,
    train=None,
    test=None,
) -> xr.DataArray:
    """Temporal generalisation: train at time ``t1``, test at every time ``t2``.

    (King & Dehaene 2014.)  Folds are the same as in :func:`decode` with the same
    arguments, so the diagonal of the result equals :func:`decode`'s accuracy.

    Parameters
    ----------
    %(common)s

    Returns
    -------
    xarray.DataArray, dims (train_time, test_time)
        Mean accuracy; attrs as in :func:`decode`.
    """
    prep, n_splits, n_repeats, seed, select = _prepare_all(
        data, label, classifier, zscore, n_splits, n_repeats, n_per_condition, cv, seed, train, test
    )
    if prep.time is None:
        raise ValueError("temporal generalisation needs data with a time dimension")
    out = _engine.run(
        prep, classifier=classifier, zscore=zscore, n_splits=n_splits, n_repeats=n_repeats,
        n_per_condition=n_per_condition, cv=cv, seed=seed, generalize=True, select=select,
    )
    attrs = _selection_attrs(_engine.result_attrs(prep, classifier, zscore, n_splits, n_repeats, cv, out.accuracy.shape[0]), select, train, test, prep)
    return xr.DataArray(
        out.accuracy.mean(axis=0),
        dims=("train_time", "test_time"),
        coords={
            "train_time": xr.Variable("train_time", prep.time, prep.time_attrs),
            "test_time": xr.Variable("test_time", prep.time, prep.time_attrs),
        },
        name="accuracy",
        attrs=attrs,
    )


@_with_common_doc
def confusion_matrix(
    data,
    *,
    label: str = "label",
    classifier="mcc",
    zscore: bool = True,
    n_splits: int = 5,
    n_repeats: int = 1,
    n_per_condition: int | None = None,
    cv=None,
    seed: int = 0,
    train=None,
    test=None,
    normalize: bool = True,
) -> xr.DataArray:
    """Confusion matrix of the cross-validated predictions, pooled over all splits.

    Parameters
    ----------
    %(common)s
    normalize : bool
        Divide each row (true class) by its number of test predictions, so rows sum to 1;
        otherwise return counts.

    Returns
    -------
    xarray.DataArray, dims (true, predicted[, time])
        Coordinates ``true`` and ``predicted`` hold the class labels (sorted).
    """
    prep, n_splits, n_repeats, seed, select = _prepare_all(
        data, label, classifier, zscore, n_splits, n_repeats, n_per_condition, cv, seed, train, test
    )
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    out = _engine.run(
        prep, classifier=classifier, zscore=zscore, n_splits=n_splits, n_repeats=n_repeats,
        n_per_condition=n_per_condition, cv=cv, seed=seed, select=select,
    )
    counts = out.confusion.transpose(1, 2, 0)  # (C, C, T)
    values = counts / counts.sum(axis=1, keepdims=True) if normalize else counts
    attrs = _selection_attrs(_engine.result_attrs(prep, classifier, zscore, n_splits, n_repeats, cv, out.accuracy.shape[0]), select, train, test, prep)
    attrs["units"] = "fraction of true-class trials" if normalize else "count"
    result = xr.DataArray(
        values, dims=("true", "predicted", "time"),
        coords={"true": prep.classes, "predicted": prep.classes}, name="confusion", attrs=attrs,
    )
    return _label_time(result, prep)


@_with_common_doc
def permutation_test(
    data,
    *,
    label: str = "label",
    classifier="mcc",
    zscore: bool = True,
    n_splits: int = 5,
    n_repeats: int = 1,
    n_per_condition: int | None = None,
    cv=None,
    seed: int = 0,
    train=None,
    test=None,
    n_permutations: int = 100,
    correction: str = "cluster",
    alpha: float = 0.05,
    generalize: bool = False,
) -> xr.Dataset:
    """Decoding accuracy with a label-shuffle null distribution and p-values per time bin.

    Each permutation shuffles the class labels (for a pseudo-population, each unit's
    labels independently; with ``train`` / ``test`` selections, within the train and
    test trials separately, so both sides keep their class counts) and reruns the
    *whole* cross-validation with the same seed, so the null includes every fitted step.  Uncorrected p-values are
    ``(#{null >= observed} + 1) / (n_permutations + 1)`` per bin
    (:func:`workbench.stats.permutation_pvalue`).

    Corrections over time bins (or the train x test map with ``generalize``):

    - ``"fdr"``: Benjamini-Hochberg q-values (:func:`workbench.stats.fdr_correction`);
    - ``"cluster"``: cluster-mass test (:func:`workbench.stats.cluster_permutation`,
      Maris & Oostenveld 2007) on the accuracy, with cluster-forming threshold the
      ``1 - alpha`` quantile of the null pooled over all bins and permutations; every
      bin of a cluster gets the cluster's family-wise p-value;
    - ``"none"``.

    Parameters
    ----------
    %(common)s
    n_permutations : int, >= 1
    correction : {"cluster", "fdr", "none"}
    alpha : float in (0, 1)
        Significance level (and FDR level).
    generalize : bool
        Test the temporal-generalisation map instead of the diagonal.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (time) or (train_time, test_time); ``null`` with a leading
        ``permutation`` dim; ``p_value`` (uncorrected), ``p_corrected`` and
        ``significant`` (``p_corrected <= alpha``; for ``"fdr"``, ``q <= alpha``), the
        same rule as :func:`workbench.rsa.rsa_over_time` and :func:`workbench.stats.fdr_correction`.
        attrs: those of :func:`decode` plus ``correction``, ``alpha``, ``n_permutations``.
    """
    from ..stats import cluster_permutation, fdr_correction, permutation_pvalue

    prep, n_splits, n_repeats, seed, select = _prepare_all(
        data, label, classifier, zscore, n_splits, n_repeats, n_per_condition, cv, seed, train, test
    )
    n_permutations = check_int(n_permutations, "n_permutations", min_value=1)
    correction = check_choice(correction, "correction", ("cluster", "fdr", "none"))
    alpha = check_float(alpha, "alpha", min_value=0.0, strict_min=True, max_value=1.0)
    if not isinstance(generalize, bool):
        raise TypeError(f"generalize must be a bool, got {type(generalize).__name__}")
    if generalize and prep.time is None:
        raise ValueError("generalize=True needs data with a time dimension")
    kw = dict(classifier=classifier, zscore=zscore, n_splits=n_splits, n_repeats=n_repeats,
              n_per_condition=n_per_condition, cv=cv, seed=seed, generalize=generalize, select=select)
    observed_out = _engine.run(prep, **kw)
    observed = observed_out.accuracy.mean(axis=0)
    shuffle_rng = np.random.default_rng([seed, 1])  # independent of the fold stream
    null = np.stack([_engine.run(prep, shuffle_rng=shuffle_rng, **kw).accuracy.mean(axis=0)
                     for _ in range(n_permutations)])
    p = np.asarray(permutation_pvalue(observed, null, "greater"), dtype=np.float64).reshape(observed.shape)
    if correction == "fdr":
        significant, p_corr = fdr_correction(p, alpha)
    elif correction == "cluster":
        threshold = float(np.quantile(null, 1.0 - alpha))
        obs_map = observed if observed.ndim else observed[None]
        null_map = null if observed.ndim else null[:, None]
        if obs_map.ndim > 2:
            raise ValueError("cluster correction supports time or train x test maps")
        _, p_corr = cluster_permutation(obs_map, null_map, threshold, "greater")
        p_corr = p_corr.reshape(observed.shape)
        significant = p_corr <= alpha
    else:
        p_corr = p.copy()
        significant = p <= alpha
    attrs = _selection_attrs(_engine.result_attrs(prep, classifier, zscore, n_splits, n_repeats, cv, observed_out.accuracy.shape[0]), select, train, test, prep)
    attrs.update(correction=correction, alpha=alpha, n_permutations=n_permutations)
    if generalize:
        dims = ("train_time", "test_time")
        coords = {d: xr.Variable(d, prep.time, prep.time_attrs) for d in dims}
    elif prep.time is not None:
        dims = ("time",)
        coords = {"time": xr.Variable("time", prep.time, prep.time_attrs)}
    else:
        dims, coords = (), {}
        observed, null, p, p_corr, significant = (
            observed.reshape(()), null.reshape(-1), p.reshape(()), p_corr.reshape(()), np.asarray(significant).reshape(())
        )
    return xr.Dataset(
        {
            "accuracy": (dims, observed),
            "null": (("permutation",) + dims, null),
            "p_value": (dims, p),
            "p_corrected": (dims, np.asarray(p_corr, dtype=np.float64)),
            "significant": (dims, np.asarray(significant, dtype=bool)),
        },
        coords=coords,
        attrs=attrs,
    )


def onset_latency(significant, *, min_run: int = 3) -> float:
    """Decoding onset latency: start of the first sustained run of significant bins.

    Definition: the time coordinate of the first bin ``i`` such that bins
    ``i, i+1, ..., i+min_run-1`` are all significant.  Requiring a run guards against
    isolated false positives; with overlapping sliding windows the latency refers to the
    window's time coordinate (e.g. its centre or end -- whatever the data's ``time``
    means), so report which.

    Parameters
    ----------
    significant : xarray.DataArray of bool, dims (time,), or xarray.Dataset
        A Dataset from :func:`permutation_test` uses its ``significant`` variable.
    min_run : int, >= 1
        Number of consecutive significant bins required.

    Returns
    -------
    float
        The onset time, or NaN when there is no such run.
    """
    if isinstance(significant, xr.Dataset):
        if "significant" not in significant:
            raise ValueError("significant (Dataset) has no 'significant' variable")
        significant = significant["significant"]
    if not isinstance(significant, xr.DataArray):
        raise TypeError(f"significant must be an xarray.DataArray (time,), got {type(significant).__name__}")
    if significant.dims != ("time",):
        raise ValueError(f"significant must have dims ('time',), got {significant.dims}")
    sig = check_array(np.asarray(significant.values), "significant", dtypes=(np.bool_,))
    min_run = check_int(min_run, "min_run", min_value=1)
    time = np.asarray(significant["time"].values) if "time" in significant.coords else np.arange(sig.size)
    if sig.size < min_run:
        return float("nan")
    # windows[i] = number of significant bins among i .. i+min_run-1
    csum = np.concatenate([[0], np.cumsum(sig, dtype=np.int64)])
    windows = csum[min_run:] - csum[:-min_run]
    hits = np.flatnonzero(windows == min_run)
    return float(time[hits[0]]) if hits.size else float("nan")
