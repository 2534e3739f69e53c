"""Publication figures for the analysis layer (RSA, decoding, spike rasters).

Every function builds a new :class:`matplotlib.figure.Figure` without pyplot (no global
state, works under any backend including Agg), labels its axes with units, uses the
Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design") for
categorical colours and perceptually uniform colormaps (viridis / cividis) for matrices,
and returns the Figure.  :func:`save_figure` writes PNG and PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from .._validation import check_float, check_int

__all__ = [
    "OKABE_ITO",
    "save_figure",
    "plot_rdm",
    "plot_mds",
    "plot_model_comparison",
    "plot_time_course",
    "plot_temporal_generalization",
    "plot_confusion",
    "plot_raster",
]

#: Okabe-Ito palette (black first is left out: it is kept for chance lines and text).
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)


def _color(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _check_da(x, name: str, dims: tuple[str, ...] | None = None, ndim: int | None = None) -> xr.DataArray:
    if not isinstance(x, xr.DataArray):
        raise TypeError(f"{name} must be an xarray.DataArray, got {type(x).__name__}")
    if dims is not None and tuple(x.dims) != dims:
        raise ValueError(f"{name} must have dims {dims}, got {x.dims}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got dims {x.dims}")
    if np.asarray(x.values).dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    return x


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


def _coord_or_index(da: xr.DataArray, dim: str) -> np.ndarray:
    return np.asarray(da[dim].values) if dim in da.coords else np.arange(da.sizes[dim])


def _time_label(da: xr.DataArray, dim: str, default_unit: str) -> str:
    unit = da[dim].attrs.get("units", default_unit) if dim in da.coords else default_unit
    pretty = dim.replace("_", " ")
    return f"{pretty} ({unit})"


def save_figure(fig: Figure, path_stem, *, dpi: int = 200) -> tuple[Path, Path]:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.pdf`` (vector).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path_stem : str or os.PathLike
        Path without extension; missing parent folders are created.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    (Path, Path)
        The PNG and PDF paths.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(path_stem, (str, Path)):
        raise TypeError(f"path_stem must be a str or Path, got {type(path_stem).__name__}")
    dpi = check_int(dpi, "dpi", min_value=10)
    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
    fig.savefig(png, dpi=dpi, bbox_inches="tight")
    fig.savefig(pdf, bbox_inches="tight")
    return png, pdf


# ----------------------------------------------------------------------------- RSA


def _category_order(categories: np.ndarray) -> tuple[np.ndarray, list, np.ndarray]:
    """Stable order grouping conditions by category, categories in order of first appearance.

    Returns the permutation, the category names in plotted order and the boundaries
    (indices where a new category starts, excluding 0).
    """
    names: list = []
    for c in categories:
        if c not in names:
            names.append(c)
    rank = np.array([names.index(c) for c in categories])
    order = np.argsort(rank, kind="stable")
    sorted_rank = rank[order]
    bounds = np.flatnonzero(np.diff(sorted_rank)) + 1
    return order, names, bounds


def _rdm_checked(rdm, category: str | None):
    rdm = _check_da(rdm, "rdm", ndim=2)
    if rdm.dims != ("condition", "condition_b"):
        raise ValueError(f"rdm must have dims ('condition', 'condition_b'), got {rdm.dims}")
    if rdm.shape[0] != rdm.shape[1]:
        raise ValueError(f"rdm must be square, got shape {rdm.shape}")
    values = _finite(rdm.values, "rdm")
    cats = None
    if category is not None:
        if not isinstance(category, str):
            raise TypeError(f"category must be a str (coordinate name) or None, got {type(category).__name__}")
        if category not in rdm.coords or rdm.coords[category].dims != ("condition",):
            raise ValueError(f"rdm has no coordinate {category!r} along 'condition'")
        cats = np.asarray(rdm.coords[category].values)
    return rdm, values, cats


def plot_rdm(rdm: xr.DataArray, *, category: str | None = "category", cmap: str = "viridis",
             title: str | None = None, colorbar_label: str | None = None) -> Figure:
    """Heatmap of a representational dissimilarity matrix, grouped by category.

    Conditions are reordered (stably) so that each category is contiguous, categories
    in order of first appearance; white lines separate categories and category names
    label the axes.

    Parameters
    ----------
    rdm : xarray.DataArray, dims (condition, condition_b), shape (n, n)
        Dissimilarities; ``rdm.attrs["measure"]``, ``["units"]`` or ``["method"]`` names
        the colour scale.
    category : str or None
        Name of a coordinate along ``condition`` giving each condition's category;
        ``None`` keeps the given order and draws no separators.
    cmap : str
    title : str, optional
    colorbar_label : str, optional
        Defaults to the RDM's ``measure``/``units`` attribute or "dissimilarity".

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0].images[0].get_array()`` is the reordered matrix.
    """
    rdm, values, cats = _rdm_checked(rdm, category)
    n = values.shape[0]
    if cats is not None:
        order, names, bounds = _category_order(cats)
    else:
        order, names, bounds = np.arange(n), [], np.array([], dtype=int)
    shown = values[np.ix_(order, order)]
    fig = Figure(figsize=(5.2, 4.4))
    ax = fig.add_subplot()
    im = ax.imshow(shown, cmap=cmap, interpolation="nearest")
    label = colorbar_label or rdm.attrs.get("measure") or rdm.attrs.get("units")
    if not label:
        method = rdm.attrs.get("method")  # as set by workbench.rsa
        label = f"dissimilarity ({method})" if method else "dissimilarity"
    fig.colorbar(im, ax=ax, label=str(label))
    for b in bounds:
        ax.axhline(b - 0.5, color="white", lw=1.2)
        ax.axvline(b - 0.5, color="white", lw=1.2)
    if cats is not None:
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [n]])
        centres = (starts + ends - 1) / 2.0
        ax.set_xticks(centres, [str(c) for c in names], rotation=45, ha="right")
        ax.set_yticks(centres, [str(c) for c in names])
    ax.set_xlabel("condition (grouped by category)" if cats is not None else "condition")
    ax.set_ylabel("condition (grouped by category)" if cats is not None else "condition")
    if title:
        ax.set_title(title)
    return fig


def plot_mds(rdm: xr.DataArray, *, category: str | None = "category", seed: int = 0,
             title: str | None = None) -> Figure:
    """2-D metric MDS of an RDM (precomputed dissimilarities), points coloured by category.

    Uses metric :class:`sklearn.manifold.MDS` (SMACOF) on the precomputed
    dissimilarities, random initialisation, 4 starts and a fixed ``random_state``; the RDM is symmetrised ``(D + D.T) / 2`` with a zero diagonal first.

    Parameters
    ----------
    rdm : xarray.DataArray, dims (condition, condition_b)
        Non-negative dissimilarities.
    category : str or None
        Coordinate along ``condition`` used for colours and the legend.
    seed : int

    Returns
    -------
    matplotlib.figure.Figure
        The embedding is stored in ``fig.axes[0].collections`` (one per category).
    """
    from sklearn.manifold import MDS

    rdm, values, cats = _rdm_checked(rdm, category)
    seed = check_int(seed, "seed", min_value=0)
    if values.shape[0] < 3:
        raise ValueError(f"rdm needs at least 3 conditions for MDS, got {values.shape[0]}")
    if (values < 0).any():
        raise ValueError("rdm has negative dissimilarities")
    d = (values + values.T) / 2.0
    np.fill_diagonal(d, 0.0)
    import inspect

    params = inspect.signature(MDS).parameters
    kwargs = dict(n_components=2, random_state=seed, n_init=4)
    if "metric_mds" in params:  # scikit-learn >= 1.8: metric= names the input metric
        kwargs.update(metric="precomputed", metric_mds=True, init="random")
    else:
        kwargs.update(dissimilarity="precomputed")
    xy = MDS(**kwargs).fit_transform(d)
    fig = Figure(figsize=(4.8, 4.4))
    ax = fig.add_subplot()
    if cats is None:
        ax.scatter(xy[:, 0], xy[:, 1], color=_color(4), s=30)
    else:
        _, names, _ = _category_order(cats)
        for i, name in enumerate(names):
            sel = cats == name
            ax.scatter(xy[sel, 0], xy[sel, 1], color=_color(i), s=30, label=str(name), edgecolor="white", lw=0.5)
        ax.legend(frameon=False, fontsize="small")
    ax.set_xlabel("MDS dimension 1 (a.u.)")
    ax.set_ylabel("MDS dimension 2 (a.u.)")
    ax.set_aspect("equal", adjustable="datalim")
    if title:
        ax.set_title(title)
    return fig


def plot_model_comparison(
    scores,
    *,
    ci: np.ndarray | None = None,
    noise_ceiling: tuple[float, float] | None = None,
    pairs: Sequence[tuple[str, str]] = (),
    ylabel: str = "RDM correlation (Spearman r)",
    title: str | None = None,
) -> Figure:
    """Bar chart of model-to-brain scores with CI error bars, noise ceiling and significance lines.

    Parameters
    ----------
    scores : xarray.DataArray, dims (model,), or xarray.Dataset
        One score per model; the ``model`` coordinate names the bars.  A Dataset from
        :func:`workbench.rsa.evaluate` supplies everything: ``evaluation``,
        ``ci_low``/``ci_high``, ``noise_ceiling`` (bound) and ``pairwise_reject``
        (model, model_b); explicit arguments override it.
    ci : np.ndarray, shape (n_model, 2), optional
        Lower and upper confidence bound of each score (e.g. a percentile bootstrap CI,
        which need not contain the full-data score), drawn as capped vertical lines.
    noise_ceiling : (float, float), optional
        Lower and upper bound of the noise ceiling, drawn as a grey band.
    pairs : sequence of (str, str)
        Pairs of model names that differ significantly; each gets a bracket line above
        the bars (the caller decides significance, e.g. after FDR correction).
    ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(scores, xr.Dataset):
        ds = scores
        if "evaluation" not in ds:
            raise ValueError("scores (Dataset) needs an 'evaluation' variable, as from workbench.rsa.evaluate")
        scores = ds["evaluation"]
        if ci is None and "ci_low" in ds and "ci_high" in ds:
            ci = np.stack([np.asarray(ds["ci_low"].values, float), np.asarray(ds["ci_high"].values, float)], axis=1)
        if noise_ceiling is None and "noise_ceiling" in ds:
            nc = np.asarray(ds["noise_ceiling"].values, float)
            noise_ceiling = (float(nc[0]), float(nc[1]))
        if not pairs and "pairwise_reject" in ds:
            rej = np.asarray(ds["pairwise_reject"].values, bool)
            names_ds = [str(m) for m in _coord_or_index(scores, "model")]
            pairs = [(names_ds[i], names_ds[j]) for i, j in zip(*np.nonzero(np.triu(rej, 1)))]
    scores = _check_da(scores, "scores", dims=("model",))
    vals = _finite(scores.values, "scores")
    names = [str(m) for m in _coord_or_index(scores, "model")]
    n = vals.size
    if ci is not None:
        if not isinstance(ci, np.ndarray):
            raise TypeError(f"ci must be a numpy.ndarray (n_model, 2), got {type(ci).__name__}")
        if ci.shape != (n, 2):
            raise ValueError(f"ci must have shape ({n}, 2), got {ci.shape}")
        ci = _finite(ci, "ci")
        if (ci[:, 0] > ci[:, 1]).any():
            raise ValueError("ci lower bounds must not exceed upper bounds")
    if noise_ceiling is not None:
        if not isinstance(noise_ceiling, (tuple, list)) or len(noise_ceiling) != 2:
            raise TypeError("noise_ceiling must be a (lower, upper) pair of floats")
        lo = check_float(noise_ceiling[0], "noise_ceiling[0]")
        hi = check_float(noise_ceiling[1], "noise_ceiling[1]")
        if lo > hi:
            raise ValueError(f"noise_ceiling lower bound {lo} exceeds upper bound {hi}")
    pair_idx = []
    for p in pairs:
        if not isinstance(p, (tuple, list)) or len(p) != 2:
            raise TypeError(f"pairs must hold (model, model) pairs, got {p!r}")
        for m in p:
            if str(m) not in names:
                raise ValueError(f"pairs names unknown model {m!r}; models are {names}")
        pair_idx.append(tuple(sorted((names.index(str(p[0])), names.index(str(p[1]))))))
    fig = Figure(figsize=(max(3.5, 0.7 * n + 1.5), 4.0))
    ax = fig.add_subplot()
    x = np.arange(n)
    ax.bar(x, vals, color=[_color(i) for i in range(n)], zorder=2)
    if ci is not None:
        ax.vlines(x, ci[:, 0], ci[:, 1], color="black", lw=1.2, zorder=3)
        for bound in (ci[:, 0], ci[:, 1]):
            ax.hlines(bound, x - 0.08, x + 0.08, color="black", lw=1.2, zorder=3)
    top = float(max(np.max(vals), np.max(ci[:, 1]) if ci is not None else -np.inf))
    if noise_ceiling is not None:
        ax.axhspan(lo, hi, color="0.8", alpha=0.7, zorder=1, label="noise ceiling")
        # labelled in place rather than by a legend, which would collide with the brackets
        ax.text(-0.45, (lo + hi) / 2, "noise ceiling", ha="left", va="center", fontsize="small", color="0.3", zorder=4)
        top = max(top, hi)
    ax.axhline(0, color="black", lw=0.8)
    span = max(top - min(0.0, float(vals.min())), 1e-9)
    for k, (i, j) in enumerate(pair_idx):
        y = top + span * (0.06 + 0.07 * k)
        ax.plot([i, i, j, j], [y - span * 0.02, y, y, y - span * 0.02], color="black", lw=1)
        ax.text((i + j) / 2, y, "*", ha="center", va="bottom")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_xlabel("model")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- decoding


def plot_time_course(
    accuracy: xr.DataArray,
    *,
    ci: np.ndarray | None = None,
    chance: float | None = None,
    significant: xr.DataArray | None = None,
    ylabel: str = "decoding accuracy (fraction correct)",
    title: str | None = None,
) -> Figure:
    """Decoding accuracy over time with chance line, shaded CI and significance bar.

    Parameters
    ----------
    accuracy : xarray.DataArray, dims (time,)
        E.g. the output of :func:`workbench.decoding.decode`; its ``chance`` attr is used
        when ``chance`` is not given.  Time unit from ``time.attrs["units"]`` (default ms).
    ci : np.ndarray, shape (n_time, 2), optional
        Lower/upper bound per bin, drawn as a shaded band.
    chance : float, optional
    significant : xarray.DataArray of bool, dims (time,), optional
        Bins drawn as a bar under the curve (e.g. ``permutation_test(...)["significant"]``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    accuracy = _check_da(accuracy, "accuracy", dims=("time",))
    acc = _finite(accuracy.values, "accuracy")
    t = _finite(_coord_or_index(accuracy, "time"), "accuracy.time")
    if ci is not None:
        if not isinstance(ci, np.ndarray):
            raise TypeError(f"ci must be a numpy.ndarray (n_time, 2), got {type(ci).__name__}")
        if ci.shape != (acc.size, 2):
            raise ValueError(f"ci must have shape ({acc.size}, 2), got {ci.shape}")
        ci = _finite(ci, "ci")
    if chance is None:
        chance = accuracy.attrs.get("chance")
    if chance is not None:
        chance = check_float(chance, "chance")
    sig = None
    if significant is not None:
        if not isinstance(significant, xr.DataArray) or significant.dims != ("time",):
            raise TypeError("significant must be an xarray.DataArray of bool with dims ('time',)")
        if significant.size != acc.size or significant.dtype != bool:
            raise ValueError(f"significant must be bool with {acc.size} time bins")
        sig = np.asarray(significant.values)
    fig = Figure(figsize=(5.5, 3.6))
    ax = fig.add_subplot()
    if ci is not None:
        ax.fill_between(t, ci[:, 0], ci[:, 1], color=_color(4), alpha=0.25, lw=0, label="CI")
    ax.plot(t, acc, color=_color(4), lw=1.8, label="accuracy")
    if chance is not None:
        ax.axhline(chance, color="black", ls="--", lw=1, label="chance")
    if sig is not None and sig.any():
        lo = min(float(acc.min()), float(ci[:, 0].min()) if ci is not None else np.inf, chance if chance is not None else np.inf)
        hi = max(float(acc.max()), float(ci[:, 1].max()) if ci is not None else -np.inf)
        y = lo - 0.05 * max(hi - lo, 1e-9)
        step = np.median(np.diff(t)) if t.size > 1 else 1.0
        for i in np.flatnonzero(sig):
            ax.plot([t[i] - step / 2, t[i] + step / 2], [y, y], color=_color(5), lw=3, solid_capstyle="butt")
        ax.plot([], [], color=_color(5), lw=3, label="significant")
    ax.set_xlabel(_time_label(accuracy, "time", "ms"))
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def plot_temporal_generalization(
    accuracy: xr.DataArray, *, chance: float | None = None, cmap: str = "RdBu_r", title: str | None = None
) -> Figure:
    """Temporal-generalisation matrix (train time on y, test time on x), colours centred on chance.

    Parameters
    ----------
    accuracy : xarray.DataArray, dims (train_time, test_time)
        E.g. :func:`workbench.decoding.temporal_generalization`.
    chance : float, optional
        Centre of the diverging colour scale (default: ``accuracy.attrs["chance"]``, else
        the median).

    Returns
    -------
    matplotlib.figure.Figure
    """
    accuracy = _check_da(accuracy, "accuracy", dims=("train_time", "test_time"))
    acc = _finite(accuracy.values, "accuracy")
    tr = _finite(_coord_or_index(accuracy, "train_time"), "train_time")
    te = _finite(_coord_or_index(accuracy, "test_time"), "test_time")
    if chance is None:
        chance = accuracy.attrs.get("chance", float(np.median(acc)))
    chance = check_float(chance, "chance")
    # Diverging scale centred on chance without inventing impossible values below 0:
    # each side spans only the data's own range.
    tiny = 1e-9
    norm = TwoSlopeNorm(vcenter=chance, vmin=min(float(acc.min()), chance - tiny), vmax=max(float(acc.max()), chance + tiny))
    fig = Figure(figsize=(5.0, 4.4))
    ax = fig.add_subplot()

    def _edges(c):
        if c.size == 1:
            return np.array([c[0] - 0.5, c[0] + 0.5])
        mid = (c[1:] + c[:-1]) / 2
        return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])

    mesh = ax.pcolormesh(_edges(te), _edges(tr), acc, cmap=cmap, norm=norm)
    fig.colorbar(mesh, ax=ax, label="decoding accuracy (fraction correct)")
    lo, hi = max(tr.min(), te.min()), min(tr.max(), te.max())
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.6, ls=":")
    ax.set_xlabel(_time_label(accuracy, "test_time", "ms"))
    ax.set_ylabel(_time_label(accuracy, "train_time", "ms"))
    if title:
        ax.set_title(title)
    return fig


def plot_confusion(confusion: xr.DataArray, *, cmap: str = "cividis", title: str | None = None) -> Figure:
    """Confusion matrix heatmap (true class on y, predicted on x), values annotated.

    Parameters
    ----------
    confusion : xarray.DataArray, dims (true, predicted)
        E.g. :func:`workbench.decoding.confusion_matrix` (select one time bin first).

    Returns
    -------
    matplotlib.figure.Figure
    """
    confusion = _check_da(confusion, "confusion", dims=("true", "predicted"))
    vals = _finite(confusion.values, "confusion")
    if (vals < 0).any():
        raise ValueError("confusion must be non-negative")
    rows = [str(c) for c in _coord_or_index(confusion, "true")]
    cols = [str(c) for c in _coord_or_index(confusion, "predicted")]
    fig = Figure(figsize=(0.45 * len(cols) + 3.0, 0.45 * len(rows) + 2.5))
    ax = fig.add_subplot()
    im = ax.imshow(vals, cmap=cmap, interpolation="nearest", vmin=0)
    unit = confusion.attrs.get("units", "fraction of true-class trials")
    fig.colorbar(im, ax=ax, label=str(unit))
    if vals.size <= 400:
        vmax = vals.max() if vals.max() > 0 else 1.0
        for (i, j), v in np.ndenumerate(vals):
            text = f"{v:.2f}" if vals.dtype.kind == "f" and not np.all(vals == np.round(vals)) else f"{int(v)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if v < 0.6 * vmax else "black")
    ax.set_xticks(np.arange(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return fig


def plot_raster(spikes, *, time_unit: str = "ms", labels: np.ndarray | None = None, title: str | None = None) -> Figure:
    """Spike raster: one row per trial (or unit), one tick per spike.

    Parameters
    ----------
    spikes : list of np.ndarray, or xarray.DataArray (trial, time)
        Either spike times per row (1-D float or int arrays, in ``time_unit``), or a
        binned raster whose non-zero entries are spikes (times from the ``time`` coord).
    time_unit : str
        Unit of the times, for the axis label (the DataArray's ``time.attrs["units"]``
        wins when present).
    labels : np.ndarray, shape (n_rows,), optional
        Condition of each row: rows are grouped (stable) and coloured by condition.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(spikes, xr.DataArray):
        if spikes.dims != ("trial", "time"):
            raise ValueError(f"spikes must have dims ('trial', 'time'), got {spikes.dims}")
        _check_da(spikes, "spikes")
        raster = _finite(spikes.values, "spikes")
        t = _finite(_coord_or_index(spikes, "time"), "spikes.time")
        rows = [t[np.flatnonzero(r)] for r in raster]
        time_unit = spikes["time"].attrs.get("units", time_unit) if "time" in spikes.coords else time_unit
    elif isinstance(spikes, (list, tuple)):
        rows = []
        for i, r in enumerate(spikes):
            if not isinstance(r, np.ndarray) or r.ndim != 1 or r.dtype.kind not in "fiu":
                raise TypeError(f"spikes[{i}] must be a 1-D numeric numpy array of spike times")
            rows.append(_finite(r, f"spikes[{i}]"))
    else:
        raise TypeError(f"spikes must be a list of arrays or an xarray.DataArray (trial, time), got {type(spikes).__name__}")
    if not rows:
        raise ValueError("spikes is empty")
    if not isinstance(time_unit, str):
        raise TypeError("time_unit must be a str")
    colors = ["black"] * len(rows)
    order = np.arange(len(rows))
    if labels is not None:
        if not isinstance(labels, np.ndarray) or labels.shape != (len(rows),):
            raise ValueError(f"labels must be a numpy array of shape ({len(rows)},)")
        order, names, _ = _category_order(labels)
        colors = [_color(names.index(labels[i])) for i in order]
    fig = Figure(figsize=(5.5, max(2.5, 0.04 * len(rows) + 1.8)))
    ax = fig.add_subplot()
    ax.eventplot([rows[i] for i in order], colors=colors, lineoffsets=np.arange(len(rows)), linelengths=0.8, linewidths=1.2)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.invert_yaxis()
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("trial" if labels is None else "trial (grouped by condition)")
    if title:
        ax.set_title(title)
    return fig
