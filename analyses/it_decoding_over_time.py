"""Object information over time in macaque IT and in a spiking network trained without labels.

Methods
-------
**IT recordings.** 132 single units from macaque inferior temporal cortex (Zhang, Meyers,
Bichot, Serre, Poggio & Desimone, PNAS 2011), recorded one session at a time while seven
objects (car, couch, face, flower, guitar, hand, kiwi) were shown at three positions (upper,
middle, lower); about 420 trials per unit, 1 ms spike rasters with stimulus onset at 0 ms.
Rasters are read with :func:`workbench.neural.read_raster` and binned per unit in 10 ms
bins from -200 to 500 ms (:func:`workbench.neural.align_units`).  Sliding 50 ms windows
(sums of 5 consecutive bins) advance by 10 ms (20 ms in quick mode); a window's time is
its centre.

**Decoding.** Units were recorded separately, so every analysis uses pseudo-populations
(Meyers, Front. Neuroinform. 2013): in each resample and for each unit and class,
``n_per_condition`` trials are drawn and dealt into 5 folds; pseudo-trials join the j-th
drawn trial of every unit.  A maximum-correlation-coefficient classifier (MCC; features
z-scored with training-fold statistics) is trained on 4 folds and tested on the fifth, per
window (:func:`workbench.decoding.decode`).  Significance per window comes from a
label-shuffle null (every unit's labels permuted independently, the whole cross-validation
rerun; :func:`workbench.decoding.permutation_test`), with Benjamini-Hochberg FDR control
over windows (alpha 0.05).  Per-window (FDR) rather than cluster inference is used for the
onset because a cluster test does not establish the latency of an effect (Sassenhagen &
Draschkow, Psychophysiology 2019).  The onset latency is the centre of the first of 3
consecutive significant windows (:func:`workbench.decoding.onset_latency`).  The
temporal-generalisation matrix trains at one window and tests at every window (King &
Dehaene, TICS 2014; :func:`workbench.decoding.temporal_generalization`).

**Position invariance.** As in Zhang et al. (2011), a classifier is trained on trials at
one position and tested on trials at another.  Pseudo-populations are built over the 21
object x position conditions (:func:`workbench.decoding.pseudo_splits`), so held-out test
pseudo-trials never share a recorded trial with the training set; for every pair (train
position a, test position b) the MCC classifier (:func:`workbench.decoding.make_classifier`)
is fitted on the training pseudo-trials at a (object labels only) and scored on the test
pseudo-trials at b.  Responses are spike counts in 50-350 ms after onset.  The decoding
API has no train/test-condition split, so this loop is written here.

**Spiking network.** A small rank-order-coded network (DoG on/off front end, STDP
convolution 5x5, 2x2 max pooling, STDP convolution 5x5, 7x7 max pooling; Kheradpisheh et
al., Neural Networks 2018 architecture family, smaller) is trained layer by layer with
unsupervised STDP (no labels) on MNIST training digits of classes 0-6 pasted at a random
one of three vertical positions (top, middle, bottom: offsets 0, 14, 28 px) on a 56 x 28
canvas.  Its stimuli are MNIST *test* digits of the same 7 classes at the same three
positions (distinct images in every class x position cell).  The responses of the last
(pooled) layer are read as cumulative spike counts per time step (each neuron fires at
most once, so 0/1 by step t; :func:`workbench.neural.from_model_responses`) and decoded
exactly as the IT data: over time steps (simultaneous population, 5-fold stratified,
repeated), with a label-shuffle null and FDR, the temporal-generalisation matrix over
steps, and cross-position generalisation at the last time step.

Deliberate differences from Zhang et al. (2011): their classifier and windows were those
of the Neural Decoding Toolbox with their own bin choices; here windows, folds and
resample counts are the ones given above.  The network sees MNIST digits, not the
monkey's object photographs (which are not public), so the comparison is of the shape of
the analyses' outcomes, not of the stimuli.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from analyses._common import Context, Figure, Number, Result

TITLE = "Object information over time: macaque IT (Zhang et al. 2011) and an STDP network"
DATASETS = ("zhang_desimone_7object_IT", "mnist")

__all__ = ["DATASETS", "TITLE", "run"]

POSITIONS_IT = ("upper", "middle", "lower")
POSITIONS_SNN = ("top", "middle", "bottom")
N_CLASSES = 7
ALPHA = 0.05
N_SPLITS = 5


def _params(quick: bool) -> dict:
    """Every setting of the run; quick mode shrinks the numbers, never the code path."""
    if quick:
        return {
            "it_units": 40, "window_step_ms": 20, "it_resamples": 2, "it_permutations": 60,
            "it_npc_object": 55, "it_npc_cell": 15, "pos_window": (50, 350),
            "snn_train_images": 300, "snn_per_cell": 10, "snn_features": (8, 16), "snn_T": 15,
            "snn_repeats": 2, "snn_permutations": 100,
        }
    return {
        "it_units": 132, "window_step_ms": 10, "it_resamples": 5, "it_permutations": 100,
        "it_npc_object": 55, "it_npc_cell": 15, "pos_window": (50, 350),
        "snn_train_images": 3000, "snn_per_cell": 40, "snn_features": (20, 48), "snn_T": 15,
        "snn_repeats": 3, "snn_permutations": 100,
    }


# --------------------------------------------------------------------------- IT data


def _load_it(n_units: int, seed: int):
    """Per-unit (trial, time) 10 ms counts, -200..500 ms, for ``n_units`` units (seeded pick)."""
    from workbench import datasets, neural

    files = datasets.zhang_desimone_files()
    if n_units < len(files):
        pick = np.sort(np.random.default_rng([seed, 7]).choice(len(files), n_units, replace=False))
        files = [files[i] for i in pick]
    block = neural.read_raster(files)
    return neural.align_units(block, "stimulus", (-200, 500), bin_size=10, time_unit="ms")


def _sliding(units: list, width_bins: int, step_bins: int, label: str) -> list:
    """Sliding-window counts: sums of ``width_bins`` bins every ``step_bins``; time = window centre."""
    out = []
    for u in units:
        values = u.values
        csum = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
        starts = np.arange(0, values.shape[1] - width_bins + 1, step_bins)
        counts = csum[:, starts + width_bins] - csum[:, starts]
        t = u["time"].values
        bin_ms = float(t[1] - t[0])
        centre = t[starts] - bin_ms / 2 + width_bins * bin_ms / 2
        da = xr.DataArray(
            counts, dims=("trial", "time"),
            coords={"trial": u["trial"].values, "time": ("time", centre, {"units": "ms"}),
                    "label": ("trial", u[label].values)},
            name=u.name,
        )
        out.append(da)
    return out


def _window_counts(units: list, window: tuple[float, float], label: str) -> list:
    """Per-unit spike counts in one window (kept as a length-1 time axis)."""
    out = []
    for u in units:
        t = u["time"].values
        keep = (t > window[0]) & (t < window[1])  # bin centres inside the window
        da = xr.DataArray(
            u.values[:, keep].sum(axis=1, keepdims=True), dims=("trial", "time"),
            coords={"trial": u["trial"].values, "time": ("time", [float(np.mean(window))], {"units": "ms"}),
                    "label": ("trial", u[label].values)},
            name=u.name,
        )
        out.append(da)
    return out


# --------------------------------------------------------------------------- cross-position


def _cross_condition(stream, obj_of_code: np.ndarray, pos_of_code: np.ndarray, n_pos: int) -> np.ndarray:
    """Mean accuracy of train-at-position-a / test-at-position-b object decoding.

    ``stream`` yields (X_train, c_train, X_test, c_test) with X (n, unit, 1) and c codes of
    the combined object x position conditions; ``obj_of_code`` / ``pos_of_code`` map a code
    to its object and position index.  Returns (n_pos, n_pos): rows = training position.
    """
    from workbench.decoding import make_classifier

    sums = np.zeros((n_pos, n_pos))
    counts = np.zeros((n_pos, n_pos))
    for Xtr, ctr, Xte, cte in stream:
        Xtr2, Xte2 = Xtr[:, :, 0], Xte[:, :, 0]
        for a in range(n_pos):
            tr = pos_of_code[ctr] == a
            clf = make_classifier("mcc", zscore=True).fit(Xtr2[tr], obj_of_code[ctr[tr]])
            for b in range(n_pos):
                te = pos_of_code[cte] == b
                sums[a, b] += np.mean(clf.predict(Xte2[te]) == obj_of_code[cte[te]])
                counts[a, b] += 1
    return sums / counts


def _split_combined(classes: np.ndarray, objects: tuple | np.ndarray, positions: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Object and position index of each combined ``"object_position"`` class name."""
    obj = np.array([list(objects).index(c.rsplit("_", 1)[0]) for c in classes])
    pos = np.array([positions.index(c.rsplit("_", 1)[1]) for c in classes])
    return obj, pos


def _it_position_matrix(units: list, p: dict, seed: int) -> np.ndarray:
    from workbench.decoding import pseudo_splits

    data = _window_counts(units, p["pos_window"], "combined_ID_position")
    classes = np.unique(np.concatenate([d["label"].values for d in data]))
    objects = np.unique([c.rsplit("_", 1)[0] for c in classes])
    obj, pos = _split_combined(classes, objects, POSITIONS_IT)
    stream = pseudo_splits(data, n_splits=N_SPLITS, n_repeats=p["it_resamples"],
                           n_per_condition=p["it_npc_cell"], seed=seed)
    return _cross_condition(stream, obj, pos, len(POSITIONS_IT))


def _it_analyses(ctx: Context, p: dict) -> dict:
    """Time course + shuffle null, temporal generalisation and position matrix of IT."""
    from workbench import decoding

    ctx.log(f"IT: reading {p['it_units']} units")
    units = _load_it(p["it_units"], ctx.seed)
    step = p["window_step_ms"] // 10
    win = _sliding(units, 5, step, "stimulus_ID")
    kw = {"n_splits": N_SPLITS, "n_repeats": p["it_resamples"], "n_per_condition": p["it_npc_object"], "seed": ctx.seed}
    ctx.log(f"IT: decoding {win[0].sizes['time']} windows, {p['it_permutations']} label shuffles")
    pt = decoding.permutation_test(win, n_permutations=p["it_permutations"], correction="fdr", alpha=ALPHA, **kw)
    per_split = decoding.decode(win, keep_splits=True, **kw)
    per_resample = per_split.values.reshape(p["it_resamples"], N_SPLITS, -1).mean(axis=1)
    ctx.log("IT: temporal generalisation")
    tg = decoding.temporal_generalization(win, **kw)
    ctx.log("IT: cross-position decoding")
    pos = _it_position_matrix(units, p, ctx.seed)
    return {
        "time": pt["time"].values, "accuracy": pt["accuracy"].values, "significant": pt["significant"].values,
        "p_corrected": pt["p_corrected"].values, "per_resample": per_resample,
        "tg": tg.values, "position": pos, "chance": np.array(pt.attrs["chance"]),
    }


# --------------------------------------------------------------------------- spiking network


def _canvas(images: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Paste 28x28 digits at vertical offset 14 * position on a (56, 28) canvas, (B, 1, 56, 28) float32."""
    out = np.zeros((images.shape[0], 1, 56, 28), dtype=np.float32)
    for i, (img, k) in enumerate(zip(images, positions)):
        out[i, 0, 14 * k : 14 * k + 28] = img
    return out


def _build_network(p: dict, seed: int):
    from workbench import networks as nw

    f1, f2 = p["snn_features"]
    return nw.Network(
        nw.Frontend("DoG", {"size": 3, "filters": [(1.0, 2.0), (2.0, 1.0)], "pad": 3}),
        [
            nw.ConvLayer(2, f1, 5, threshold=15.0, padding=2, wta_count=5, wta_radius=2, lr_factor=2.0, seed=seed),
            nw.PoolLayer(2, 2),
            nw.ConvLayer(f1, f2, 5, threshold=10.0, padding=2, wta_count=8, wta_radius=1, lr_factor=2.0, seed=seed + 1),
            nw.PoolLayer(7, 7),
        ],
        T=p["snn_T"],
        name="it-decoding-snn",
    )


def _train_network(ctx: Context, p: dict) -> dict:
    """Unsupervised STDP, layer by layer, on digits 0-6 at random positions; weights as arrays."""
    from workbench.datasets import load_mnist

    mnist = load_mnist("train", limit=2 * p["snn_train_images"])
    keep = np.flatnonzero(mnist["label"].values < N_CLASSES)[: p["snn_train_images"]]
    rng = np.random.default_rng([ctx.seed, 11])
    images = _canvas(mnist.values[keep].astype(np.float32) / 255.0, rng.integers(0, 3, keep.size))
    net = _build_network(p, ctx.seed)
    for index in (0, 2):
        log = net.train_layer(index, images, epochs=1, seed=ctx.seed, progress=ctx.progress)
        ctx.log(f"SNN: layer {index} trained, convergence {log.rows[-1]['convergence']:.3f}")
    return {"w0": net.layers[0].weight, "w2": net.layers[2].weight}


def _snn_responses(ctx: Context, p: dict, weights: dict) -> dict:
    """Cumulative spike counts per step of the last layer for the test stimuli."""
    from workbench import neural
    from workbench.datasets import load_mnist

    net = _build_network(p, ctx.seed)
    net.layers[0].load_state({"weight": weights["w0"]})
    net.layers[2].load_state({"weight": weights["w2"]})
    mnist = load_mnist("test", limit=3000)
    labels = mnist["label"].values
    n = p["snn_per_cell"]
    idx, obj, pos = [], [], []
    for c in range(N_CLASSES):
        pool = np.flatnonzero(labels == c)[: 3 * n]  # distinct images in every class x position cell
        for k in range(3):
            idx.extend(pool[k * n : (k + 1) * n])
            obj += [c] * n
            pos += [k] * n
    images = _canvas(mnist.values[np.array(idx)].astype(np.float32) / 255.0, np.array(pos))
    tmap = net.transform(images)[-1]
    spikes = neural.from_model_responses(tmap.astype(np.int32), "latency", n_steps=net.T, layer="pool2")
    cumulative = np.cumsum(spikes.values, axis=2)
    # each neuron fires at most once, so cumulative counts are 0/1: uint8 keeps the cache small
    return {"responses": cumulative.astype(np.uint8), "object": np.array(obj), "position": np.array(pos)}


def _snn_analyses(ctx: Context, p: dict, resp: dict) -> dict:
    from sklearn.model_selection import RepeatedStratifiedKFold

    from workbench import decoding

    X = resp["responses"].astype(np.float64)
    T = X.shape[2]
    step = xr.Variable("time", np.arange(T, dtype=np.float64), {"units": "time step"})
    objects = np.array([f"digit{c}" for c in resp["object"]])
    da = xr.DataArray(X, dims=("trial", "unit", "time"), coords={"time": step, "label": ("trial", objects)})
    kw = {"n_splits": N_SPLITS, "n_repeats": p["snn_repeats"], "seed": ctx.seed}
    ctx.log(f"SNN: decoding {T} time steps, {p['snn_permutations']} label shuffles")
    pt = decoding.permutation_test(da, n_permutations=p["snn_permutations"], correction="fdr", alpha=ALPHA, **kw)
    tg = decoding.temporal_generalization(da, **kw)
    # cross-position at the last step: stratify folds on the object x position cell
    cell = resp["object"] * 3 + resp["position"]
    cv = RepeatedStratifiedKFold(n_splits=N_SPLITS, n_repeats=p["snn_repeats"], random_state=ctx.seed)
    last = X[:, :, -1:]
    stream = ((last[tr], cell[tr], last[te], cell[te]) for tr, te in cv.split(last[:, :, 0], cell))
    codes = np.arange(N_CLASSES * 3)
    pos = _cross_condition(stream, codes // 3, codes % 3, 3)
    return {
        "time": pt["time"].values, "accuracy": pt["accuracy"].values, "significant": pt["significant"].values,
        "tg": tg.values, "position": pos, "chance": np.array(pt.attrs["chance"]),
        "onset": np.array(decoding.onset_latency(pt, min_run=2)),
    }


# --------------------------------------------------------------------------- figures


def _time_course_figure(res: dict, time_units: str, title: str, onset: float | None, ci=None):
    from workbench.plots import plot_time_course

    acc = xr.DataArray(res["accuracy"], dims=("time",),
                       coords={"time": xr.Variable("time", res["time"], {"units": time_units})},
                       attrs={"chance": float(res["chance"])})
    sig = xr.DataArray(res["significant"].astype(bool), dims=("time",), coords={"time": acc["time"]})
    fig = plot_time_course(acc, ci=ci, significant=sig, title=title)
    if onset is not None and np.isfinite(onset):
        ax = fig.axes[0]
        ax.axvline(onset, color="#009E73", linestyle=":", linewidth=1.5, label=f"onset {onset:g} {time_units}")
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    return fig


def _tg_figure(res: dict, time_units: str, title: str):
    from workbench.plots import plot_temporal_generalization

    t = res["time"]
    tg = xr.DataArray(res["tg"], dims=("train_time", "test_time"),
                      coords={"train_time": xr.Variable("train_time", t, {"units": time_units}),
                              "test_time": xr.Variable("test_time", t, {"units": time_units})},
                      attrs={"chance": float(res["chance"])})
    return plot_temporal_generalization(tg, title=title)


def _side_by_side_figure(it: dict, snn: dict, onset: float, snn_onset: float):
    """IT (ms) and SNN (time steps) decoding time courses in two panels of one figure."""
    import matplotlib.pyplot as plt

    blue, orange, green = "#0072B2", "#D55E00", "#009E73"  # Okabe-Ito, colour-blind safe
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), constrained_layout=True, sharey=True)
    panels = [
        (axes[0], it, onset, "time after stimulus onset (ms; 50 ms window centre)", "macaque IT"),
        (axes[1], snn, snn_onset, "time (network time step)", "STDP network, last layer"),
    ]
    for ax, res, on, xlabel, title in panels:
        t, acc = res["time"], res["accuracy"]
        ax.plot(t, acc, color=blue, linewidth=2, label="accuracy")
        ax.axhline(float(res["chance"]), color="black", linestyle="--", linewidth=1, label="chance")
        sig = res["significant"].astype(bool)
        y0 = float(res["chance"]) - 0.06
        ax.plot(np.where(sig, t, np.nan), np.full(t.shape, y0), color=orange, linewidth=4,
                solid_capstyle="butt", label="above shuffle null (FDR 0.05)")
        if np.isfinite(on):
            ax.axvline(on, color=green, linestyle=":", linewidth=1.5, label=f"onset {on:g}")
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    axes[0].set_ylabel("decoding accuracy (fraction correct)")
    axes[0].set_ylim(0.0, 1.0)
    return fig


def _position_figure(it_pos: np.ndarray, snn_pos: np.ndarray, it_window: tuple, chance: float):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), constrained_layout=True)
    panels = [
        (axes[0], it_pos, POSITIONS_IT, f"macaque IT ({it_window[0]}-{it_window[1]} ms)"),
        (axes[1], snn_pos, POSITIONS_SNN, "STDP network (last time step)"),
    ]
    for ax, m, names, title in panels:
        im = ax.imshow(m, cmap="cividis", vmin=0.0, vmax=1.0)
        for a in range(3):
            for b in range(3):
                ax.text(b, a, f"{m[a, b]:.2f}", ha="center", va="center",
                        color="black" if m[a, b] > 0.5 else "white", fontsize=10)
        ax.set_xticks(range(3), names)
        ax.set_yticks(range(3), names)
        ax.set_xlabel("test position")
        ax.set_ylabel("training position")
        ax.set_title(title)
    cbar = fig.colorbar(im, ax=axes, shrink=0.85)
    cbar.set_label(f"decoding accuracy (fraction correct; chance {chance:.2f})")
    return fig


# --------------------------------------------------------------------------- pipeline


def run(ctx: Context) -> Result:
    """Decode object identity over time from IT and from the SNN; see the module docstring."""
    p = _params(ctx.quick)

    # 1. IT: time course with shuffle null and onset, temporal generalisation, positions
    it_keys = ("it_units", "window_step_ms", "it_resamples", "it_permutations", "it_npc_object", "it_npc_cell", "pos_window")
    it = ctx.cached("it_decoding", {k: p[k] for k in it_keys}, lambda: _it_analyses(ctx, p))
    it_time = it["time"]
    sig = xr.DataArray(it["significant"].astype(bool), dims=("time",), coords={"time": it_time})
    from workbench.decoding import onset_latency

    onset = onset_latency(sig, min_run=3)
    peak = int(np.argmax(it["accuracy"]))
    off = ~np.eye(3, dtype=bool)

    # 2. SNN: unsupervised training, responses per time step, the same analyses
    snn_keys = ("snn_train_images", "snn_features", "snn_T")
    weights = ctx.cached("snn_weights", {k: p[k] for k in snn_keys}, lambda: _train_network(ctx, p))
    resp = ctx.cached("snn_responses", {**{k: p[k] for k in snn_keys}, "per_cell": p["snn_per_cell"]},
                      lambda: _snn_responses(ctx, p, weights))
    snn = ctx.cached("snn_decoding", {**{k: p[k] for k in snn_keys}, "per_cell": p["snn_per_cell"],
                                      "repeats": p["snn_repeats"], "perms": p["snn_permutations"]},
                     lambda: _snn_analyses(ctx, p, resp))

    # 3. figures
    figures = []
    ci = np.percentile(it["per_resample"], [2.5, 97.5], axis=0).T
    fig = _time_course_figure(it, "ms", "Macaque IT: object decoding over time (50 ms windows)", onset, ci=ci)
    ctx.save_figure(fig, "it_decoding_time_course")
    figures.append(Figure("it_decoding_time_course",
                          f"IT object decoding (MCC, pseudo-populations of {p['it_units']} units) over 50 ms windows "
                          f"(centres), chance line, band = 2.5-97.5 percentile over {p['it_resamples']} resamples, "
                          f"bar = windows above the label-shuffle null (FDR 0.05, {p['it_permutations']} shuffles), "
                          "dotted green line = onset."))
    ctx.save_figure(_tg_figure(it, "ms", "Macaque IT: temporal generalisation"), "it_temporal_generalization")
    figures.append(Figure("it_temporal_generalization", "IT temporal generalisation: train at one window, test at every window."))
    ctx.save_figure(_time_course_figure(snn, "time step", "STDP network: object decoding over time steps", None),
                    "snn_decoding_time_course")
    figures.append(Figure("snn_decoding_time_course",
                          "SNN (last pooled layer) decoding of 7 digit classes from cumulative spike counts per time "
                          "step; bar = steps above the label-shuffle null (FDR 0.05)."))
    ctx.save_figure(_tg_figure(snn, "time step", "STDP network: temporal generalisation"), "snn_temporal_generalization")
    figures.append(Figure("snn_temporal_generalization", "SNN temporal generalisation over time steps."))
    ctx.save_figure(_position_figure(it["position"], snn["position"], p["pos_window"], float(it["chance"])),
                    "position_invariance_it_vs_snn")
    figures.append(Figure("position_invariance_it_vs_snn",
                          "Train at one position, test at each position: IT (left) and the SNN (right); "
                          "diagonal = same position (cross-validated)."))
    ctx.save_figure(_side_by_side_figure(it, snn, onset, float(snn["onset"])), "decoding_time_course_it_vs_snn")
    figures.append(Figure("decoding_time_course_it_vs_snn",
                          "Side by side: object decoding over time in IT (left, ms) and in the SNN (right, time "
                          "steps), chance, significance against the label-shuffle null and onset."))

    # 4. key numbers
    numbers = [
        Number("it_peak_accuracy", float(it["accuracy"][peak]),
               f"peak IT object decoding accuracy (window centred at {it_time[peak]:g} ms; chance 1/7)", (0.3, 1.0)),
        Number("it_peak_time_ms", float(it_time[peak]), "centre of the best IT window (ms after onset)", (50.0, 450.0)),
        Number("it_onset_ms", float(onset),
               "IT decoding onset: centre of the first of 3 consecutive significant 50 ms windows (ms)", (0.0, 300.0)),
        Number("it_same_position_accuracy", float(np.mean(np.diag(it["position"]))),
               "IT accuracy trained and tested at the same position (mean of 3)", (0.3, 1.0)),
        Number("it_cross_position_accuracy", float(np.mean(it["position"][off])),
               "IT accuracy trained at one position, tested at another (mean of 6 pairs)", (0.2, 1.0)),
        Number("snn_peak_accuracy", float(np.max(snn["accuracy"])),
               "peak SNN decoding accuracy over time steps (7 digit classes)", (0.3, 1.0)),
        Number("snn_same_position_accuracy", float(np.mean(np.diag(snn["position"]))),
               "SNN accuracy trained and tested at the same position, last step", (0.3, 1.0)),
        Number("snn_cross_position_accuracy", float(np.mean(snn["position"][off])),
               "SNN accuracy trained at one position, tested at another, last step (below 0.05 would mean a bug)",
               (0.05, 1.0)),
    ]
    notes = [
        f"SNN decoding onset (first of 2 consecutive significant steps): step {float(snn['onset']):g} of {p['snn_T']}.",
        "Window times are window centres; a 50 ms window centred at t covers t-25..t+25 ms.",
    ]
    return Result(figures=figures, numbers=numbers, data=list(DATASETS), notes=notes)
