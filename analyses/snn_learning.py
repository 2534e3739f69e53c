"""Learning in the spiking networks: accuracy, learned features, spikes and convergence.

Methods
-------
We train the published rank-order-coded spiking networks of :mod:`workbench.networks`
layer by layer, bottom-up, each convolutional layer by unsupervised STDP with k-winners-
take-all and each decision layer by reward-modulated STDP (R-STDP):

* ``kheradpisheh2018-mnist`` (Kheradpisheh, Ganjtabesh, Thorpe & Masquelier 2018,
  Neural Networks 99:56-67): DoG on/off front end, two STDP convolutional layers; a
  linear SVM reads the global maximum membrane potential of each conv2 feature.
* ``mozafari2019-mnist`` (Mozafari, Ganjtabesh, Nowzari-Dalini, Thorpe & Masquelier 2019,
  Pattern Recognition 94:87-95): six DoG filters, two STDP layers, and an R-STDP decision
  layer (20 neurons per digit, no threshold; the neuron with the largest final potential
  gives the class).
* ``mozafari2018-caltech`` and ``mozafari2018-eth80`` (Mozafari, Kheradpisheh, Masquelier,
  Nowzari-Dalini & Ganjtabesh 2018, IEEE TNNLS 29(12):6178-6190): rectified Gabor front
  end, max pooling, lateral inhibition and pointwise inhibition, and one R-STDP decision
  layer whose first spike gives the class (Caltech-101 faces vs motorbikes; ETH-80 cups
  vs dogs, whole objects held out for testing).

The papers trained on the full training sets (60 000 MNIST images, many epochs); this
pipeline trains on the budget the machine affords (``BUDGETS``: a class-balanced subset of
a few thousand MNIST images in full mode, 200 in quick mode, with fewer epochs) and tests
on held-out images.  We report test accuracy next to the paper's accuracy
(``Recipe.reported_accuracy``), with the training-set size and the training wall time.

Learned features are shown in pixel space, as in SpykeTorch's tutorial (Mozafari et al.
2019, Front. Neurosci. 13:625): the preferred stimulus of a feature is its weight map
back-projected through everything below it.  A front-end channel's pattern is its filter
kernel (DoG: the difference of its two Gaussians; Gabor: the kernel); a convolutional
feature's pattern is ``sum_c sum_q w[c, q] * P_c`` shifted by ``s * q`` (``s`` the pixel
stride of its input grid), i.e. a transposed convolution; a pooling layer spreads each
pattern uniformly over its window (a pooled unit may have come from any position in it)
and multiplies the stride.  Rectification, thresholds and inhibition are ignored, so
these are linear approximations of the preferred stimuli.

Spikes: the first-spike time of every unit of each convolutional layer (rank-order code,
one spike per neuron at most) for example test images.  Convergence: Kheradpisheh et al.
(2018)'s ``C = mean w (1 - w)`` after each epoch of each STDP layer (0 = binary weights,
learning converged; the initial weights, ~N(0.8, 0.05), give C ~ 0.16), and the training
accuracy (hit rate) after each epoch of each R-STDP decision layer.

Deliberate differences from the published recipes (``AFTER_TRAINING``): in
``mozafari2019-mnist`` a convolutional layer, once trained, feeds the layers above with its
uninhibited spikes.  Pointwise (feature) inhibition is used only to pick the STDP winners
of the layer being trained, as in SpykeTorch's reproduction of Mozafari et al. (2019)
(``MozafariDeep.py``, whose forward pass to deeper layers and at test time applies no
inhibition); :class:`~workbench.networks.ConvLayer` applies it to its output as well,
which leaves the decision layer only a few dozen input spikes per image (measured on
2 000 training images, epochs 2/2/6: test accuracy 0.24 with this change, 0.09 without;
an SVM on the conv2 potentials drops from 0.78 to 0.62, so the change helps the R-STDP
read-out, not the features).

The decision layers learn online by R-STDP, their weights moving by a few thousandths per
win; the papers train them for tens to hundreds of epochs on the full training sets, so
at this pipeline's budget ``mozafari2019-mnist`` stays below the paper; the SVM read-out of
its STDP features (``*_stdp_features_svm_accuracy``) shows how much the unsupervised layers
have learned independently of the R-STDP read-out.  ``workbench train`` runs the full
budgets (README).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench._validation import check_array, check_int, check_pair
from workbench.networks import RECIPES, SVMReadout, build, global_max_potentials
from workbench.networks._data import load_split
from workbench.networks._layers import ConvLayer, DecisionLayer, PoolLayer

from ._common import Context, Figure, Number, Result

__all__ = ["ACCURACY_FLOORS", "AFTER_TRAINING", "BUDGETS", "DATASETS", "OVERRIDES", "TITLE", "Budget", "backproject_features",
           "first_spike_raster", "run"]

TITLE = "Learning in the spiking networks: accuracy, learned features, spikes and convergence"
DATASETS = ("mnist", "caltech_face_motor", "eth80_cup_dog")


@dataclass(frozen=True)
class Budget:
    """Training budget of one network: images (None = the whole split) and epochs per layer."""

    n_train: int | None
    n_test: int | None
    epochs: tuple[int, ...]


#: Training budgets (quick, full).  Full mode is sized so the whole pipeline takes ~20-30
#: minutes on 2 cores; quick mode runs the same code on ~200 images, 1 epoch per layer.
BUDGETS: dict[str, dict[str, Budget]] = {
    "kheradpisheh2018-mnist": {"quick": Budget(200, 200, (1, 1)), "full": Budget(3000, 2000, (2, 2))},
    "mozafari2019-mnist": {"quick": Budget(200, 200, (1, 1, 2)), "full": Budget(3000, 2000, (2, 2, 10))},
    "mozafari2018-caltech": {"quick": Budget(200, 200, (4,)), "full": Budget(None, None, (40,))},
    "mozafari2018-eth80": {"quick": Budget(200, 200, (4,)), "full": Budget(None, None, (20,))},
}

#: Hyperparameters changed from the recipe, per network: {layer class name: {attr: value}}
#: (see the module docstring for why).
OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {}

#: Attributes set on a layer once it is trained (they change how it feeds the layers above,
#: not how it learns): SpykeTorch's MozafariDeep.py applies pointwise inhibition only to
#: select the STDP winners of the layer being trained; deeper layers get the uninhibited spikes.
AFTER_TRAINING: dict[str, dict[str, dict[str, Any]]] = {
    "mozafari2019-mnist": {"ConvLayer": {"inhibit": False}},
}

_SHORT = {
    "kheradpisheh2018-mnist": "Kheradpisheh 2018\nMNIST (SVM)",
    "mozafari2019-mnist": "Mozafari 2019\nMNIST (R-STDP)",
    "mozafari2018-caltech": "Mozafari 2018\nCaltech face/motor",
    "mozafari2018-eth80": "Mozafari 2018\nETH-80 cup/dog",
}


# ----------------------------------------------------------------------------- networks


def _after_training(name: str, layer) -> None:
    for attr, value in AFTER_TRAINING.get(name, {}).get(type(layer).__name__, {}).items():
        setattr(layer, attr, value)


def _build(name: str, seed: int):
    """The recipe's network with this pipeline's overrides applied."""
    net = build(name, seed=seed)
    for layer in net.layers:
        for attr, value in OVERRIDES.get(name, {}).get(type(layer).__name__, {}).items():
            setattr(layer, attr, value)
        if isinstance(layer, ConvLayer):
            layer.reset_schedule()  # the schedule is derived from the (possibly overridden) rates
    return net


def _trainable(net) -> list[int]:
    return [i for i, layer in enumerate(net.layers) if layer.trainable]


def _restore(name: str, seed: int, state: dict[str, np.ndarray]):
    """Rebuild a trained network from the weights stored by :func:`_train_and_test`."""
    net = _build(name, seed)
    for i in _trainable(net):
        net.layers[i].load_state({"weight": state[f"layer{i}_weight"]})
        _after_training(name, net.layers[i])
    return net


def _train_and_test(name: str, budget: Budget, data: dict[str, tuple[np.ndarray, np.ndarray]], seed: int,
                    progress: bool) -> dict[str, np.ndarray]:
    """Train every layer of ``name`` bottom-up, then measure its test accuracy.

    Returns a dict of arrays (cacheable): each trainable layer's weights, the per-epoch
    log (``log_layer``, ``log_epoch``, ``log_value``, ``log_kind``: 0 = convergence C of an
    STDP layer, 1 = training hit rate of an R-STDP layer, epoch 0 = before training),
    ``train_seconds``, ``test_accuracy``, ``test_pred`` and ``n_train``/``n_test``.
    """
    train_x, train_y = data["train"]
    test_x, test_y = data["test"]
    net = _build(name, seed)
    rows: list[tuple[int, int, float, int]] = []
    t0 = time.perf_counter()
    for index, epochs in zip(_trainable(net), budget.epochs):
        layer = net.layers[index]
        if isinstance(layer, ConvLayer):
            rows.append((index, 0, layer.convergence(), 0))
        log = net.train_layer(index, train_x, train_y, epochs=epochs, seed=seed, progress=progress,
                              **RECIPES[name].train_options)
        _after_training(name, layer)
        for row in log.rows:
            if "convergence" in row:
                rows.append((index, int(row["epoch"]), float(row["convergence"]), 0))
            else:
                rows.append((index, int(row["epoch"]), float(row["train_accuracy"]), 1))
    train_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    if RECIPES[name].readout == "svm":
        # Kheradpisheh et al. (2018): linear SVM on the global max potential of each
        # feature of the last convolutional layer, fitted on the training images.
        readout = SVMReadout(seed=seed).fit(global_max_potentials(net, train_x), train_y)
        pred = readout.predict(global_max_potentials(net, test_x))
    else:
        decision = net.layers[-1]
        tmap = net._run(net.encode(test_x), 0, len(net.layers) - 1)[0]
        pred = decision.predict(np.ascontiguousarray(tmap, dtype=np.int32), net.T)  # -1: no decision = error
    extra = {}
    if any(isinstance(layer, ConvLayer) for layer in net.layers) and RECIPES[name].readout != "svm":
        # Diagnostic: how much the STDP features below the decision layer carry, read out
        # by Kheradpisheh's SVM (separates feature learning from R-STDP read-out learning).
        readout = SVMReadout(seed=seed).fit(global_max_potentials(net, train_x), train_y)
        extra["stdp_svm_accuracy"] = np.array(readout.score(global_max_potentials(net, test_x), test_y))
    out = {f"layer{i}_weight": net.layers[i].weight for i in _trainable(net)}
    out.update(extra)
    out.update({
        "log_layer": np.array([r[0] for r in rows], dtype=np.int64),
        "log_epoch": np.array([r[1] for r in rows], dtype=np.int64),
        "log_value": np.array([r[2] for r in rows], dtype=np.float64),
        "log_kind": np.array([r[3] for r in rows], dtype=np.int64),
        "train_seconds": np.array(train_seconds),
        "test_seconds": np.array(time.perf_counter() - t1),
        "test_pred": np.asarray(pred, dtype=np.int64),
        "test_accuracy": np.array(float(np.mean(pred == test_y))),
        "n_train": np.array(len(train_y)),
        "n_test": np.array(len(test_y)),
        "n_classes": np.array(len(np.unique(train_y))),
    })
    return out


# ----------------------------------------------------------------------------- features


def _frontend_patterns(net) -> np.ndarray:
    """Pixel-space pattern of each front-end channel, (C, k, k) float64 (input has 1 channel).

    DoG: the difference of the two Gaussians, divided by its peak when the front end
    peak-normalises its channels; Gabor: the kernel.  Thresholds, rectification and local
    normalisation are nonlinear and left out.
    """
    if net.frontend.filter not in ("DoG", "Gabor"):
        raise ValueError(f"no pixel-space pattern for the {net.frontend.filter!r} front end (DoG or Gabor only)")
    kernel = np.asarray(net.frontend._bank.kernel, dtype=np.float64)
    if net.frontend.filter == "Gabor":
        return kernel
    dog = kernel[0] - kernel[1]  # on-centre G(std1) - G(std2); swapped stds give off-centre
    if getattr(net.frontend, "peak_normalize", False):
        dog = dog / dog.max(axis=(1, 2), keepdims=True)
    return dog


def _project_conv(patterns: np.ndarray, stride: tuple[int, int], weight: np.ndarray) -> np.ndarray:
    """Patterns of a conv layer's features: transposed convolution of the input patterns.

    patterns (C, h, w), one per input channel, whose grid steps ``stride = (sy, sx)``
    pixels; weight (F, C, kh, kw) -> (F, h + (kh - 1) sy, w + (kw - 1) sx).
    """
    F, _, kh, kw = weight.shape
    _, h, w = patterns.shape
    sy, sx = stride
    out = np.zeros((F, h + (kh - 1) * sy, w + (kw - 1) * sx))
    for qy in range(kh):
        for qx in range(kw):
            y0, x0 = qy * sy, qx * sx
            out[:, y0:y0 + h, x0:x0 + w] += np.einsum("fc,chw->fhw", weight[:, :, qy, qx], patterns)
    return out


def backproject_features(net) -> dict[int, np.ndarray]:
    """Pixel-space reconstruction of every feature of every trainable layer.

    Parameters
    ----------
    net : workbench.networks.Network
        A network with a DoG or Gabor front end on one-channel images.

    Returns
    -------
    dict of int -> ndarray, float64, shape (F, h, w)
        Layer index -> the linear back-projection of each feature's weights through all
        layers below and the front-end kernels (see the module docstring).  Layers above
        a global pooling are not spatial and are left out.

    Raises
    ------
    ValueError
        If the front end has no pixel-space kernels (``"none"``, ``"LoG"``) or a layer
        expects another number of channels than the one below provides.
    """
    patterns, stride = _frontend_patterns(net), (1, 1)
    result: dict[int, np.ndarray] = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (ConvLayer, DecisionLayer)):
            weight = np.asarray(layer.weight, dtype=np.float64)
            if weight.shape[1] != patterns.shape[0]:
                raise ValueError(f"layer {i} expects {weight.shape[1]} channels, the layers below give {patterns.shape[0]}")
            patterns = _project_conv(patterns, stride, weight)
            cs = check_pair(layer.conv.stride, "stride", min_value=1)
            stride = (stride[0] * cs[0], stride[1] * cs[1])
            result[i] = patterns
        elif isinstance(layer, PoolLayer):
            ky, kx = check_pair(layer.kernel_size, "kernel_size", min_value=1)
            ps = check_pair(layer.stride if layer.stride is not None else layer.kernel_size, "stride", min_value=1)
            # A pooled unit may come from any unit of its window: spread the pattern uniformly.
            C = patterns.shape[0]
            box = np.zeros((C, C, ky, kx))
            box[np.arange(C), np.arange(C)] = 1.0 / (ky * kx)
            patterns = _project_conv(patterns, stride, box)
            stride = (stride[0] * ps[0], stride[1] * ps[1])
        else:
            break  # global pooling: no spatial pattern beyond this point
    return result


def first_spike_raster(tmap: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Spikes of one image's layer output as (time step, unit index) pairs.

    Parameters
    ----------
    tmap : ndarray of int, shape (C, H, W)
        First-spike times in ``[0, T]`` (``T`` = silent).
    T : int
        Number of time steps (>= 1).

    Returns
    -------
    times, units : ndarray of int64, shape (n_spikes,)
        Units are numbered feature-major (``c * H * W + y * W + x``), in increasing order.
    """
    T = check_int(T, "T", min_value=1)
    tmap = check_array(tmap, "tmap", ndim=3)
    if tmap.dtype.kind not in "iu":
        raise TypeError(f"tmap must hold integer time steps, got dtype {tmap.dtype}")
    if tmap.size and (tmap.min() < 0 or tmap.max() > T):
        raise ValueError(f"tmap must hold time steps in [0, T={T}]")
    flat = tmap.reshape(-1)
    units = np.flatnonzero(flat < T)
    return flat[units].astype(np.int64), units.astype(np.int64)


# ----------------------------------------------------------------------------- figures


def _palette():
    from workbench.plots import OKABE_ITO

    return OKABE_ITO


def _accuracy_figure(results: dict[str, dict[str, np.ndarray]]):
    from matplotlib.figure import Figure as MplFigure

    colors = _palette()
    names = list(results)
    fig = MplFigure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    ours = [100 * float(results[n]["test_accuracy"]) for n in names]
    paper = [RECIPES[n].reported_accuracy for n in names]
    chance = [100.0 / int(results[n]["n_classes"]) for n in names]
    ax.barh(y - 0.2, ours, height=0.38, color=colors[4], label="this run (held-out test images)")
    ax.barh(y + 0.2, np.nan_to_num(paper, nan=0.0), height=0.38, color=colors[0], label="paper (full training set)")
    for i, n in enumerate(names):
        ax.plot([chance[i]] * 2, [i - 0.45, i + 0.45], color="black", lw=1.5, ls="--",
                label="chance" if i == 0 else None)
        ax.text(ours[i] + 1, i - 0.2, f"{ours[i]:.1f}% (n_train={int(results[n]['n_train'])}, "
                f"{float(results[n]['train_seconds']):.0f} s)", va="center", fontsize=7)
        if np.isnan(paper[i]):
            ax.text(1, i + 0.2, "not reported", va="center", fontsize=7)
        else:
            ax.text(paper[i] + 1, i + 0.2, f"{paper[i]:.1f}%", va="center", fontsize=7)
    ax.set_yticks(y, [_SHORT.get(n, n) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 140)
    ax.set_xticks(np.arange(0, 101, 20))
    ax.set_xlabel("test accuracy (%)")
    # Below the axes: inside, it would cover the labels of whichever row is longest.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=7, frameon=False)
    ax.set_title("Spiking networks trained here vs the published accuracy", fontsize=9)
    return fig


def _features_figure(rows: list[tuple[str, np.ndarray]], n_cols: int = 10):
    """One row per (label, patterns (F, h, w)); each pattern scaled to its own range."""
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(1.0 * n_cols + 2.2, 1.15 * len(rows) + 0.4))
    grid = fig.add_gridspec(len(rows), n_cols, wspace=0.08, hspace=0.25)
    for r, (label, patterns) in enumerate(rows):
        show = patterns[np.linspace(0, len(patterns) - 1, min(n_cols, len(patterns))).astype(int)]
        for c in range(n_cols):
            ax = fig.add_subplot(grid[r, c])
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(show):
                p = show[c]
                span = p.max() - p.min()
                ax.imshow((p - p.min()) / span if span > 0 else np.zeros_like(p), cmap="gray", vmin=0, vmax=1)
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle("Learned features back-projected to pixel space (min-max scaled per feature; "
                 "white = preferred intensity)", fontsize=8)
    return fig


def _raster_figure(images: np.ndarray, labels: np.ndarray, tmaps: list[tuple[str, np.ndarray]], T: int):
    """Columns: example images; rows: the image, then each layer's first-spike raster."""
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    colors = _palette()
    n = len(images)
    fig = MplFigure(figsize=(2.3 * n + 0.8, 1.6 + 2.0 * len(tmaps)))
    grid = fig.add_gridspec(1 + len(tmaps), n, height_ratios=[1.0] + [1.4] * len(tmaps), hspace=0.55, wspace=0.35)
    for j in range(n):
        ax = fig.add_subplot(grid[0, j])
        ax.imshow(images[j, 0], cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"test image, label {labels[j]}", fontsize=8)
        for r, (name, tmap) in enumerate(tmaps, start=1):
            ax = fig.add_subplot(grid[r, j])
            times, units = first_spike_raster(tmap[j], T)
            ax.scatter(times, units, s=3, marker="|", color=colors[(r - 1) * 4 % len(colors)], linewidths=0.8)
            ax.set_xlim(-0.5, T - 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(-0.5, tmap[j].size - 0.5)
            ax.set_xlabel("time (time steps)", fontsize=7)
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(f"{name} unit\n(feature-major index)", fontsize=7)
            ax.set_title(f"{len(times)} of {tmap[j].size} units fired", fontsize=7)
    fig.suptitle("First-spike rasters of the trained Kheradpisheh (2018) network", fontsize=9)
    return fig


def _convergence_figure(results: dict[str, dict[str, np.ndarray]]):
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator

    colors = _palette()
    fig = MplFigure(figsize=(9.0, 3.4))
    ax_c, ax_a = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ci = ai = 0
    for name, res in results.items():
        short = _SHORT.get(name, name).replace("\n", " ")
        for layer in np.unique(res["log_layer"]):
            sel = res["log_layer"] == layer
            kind = int(res["log_kind"][sel][0])
            epochs, values = res["log_epoch"][sel], res["log_value"][sel]
            if kind == 0:
                ax_c.plot(epochs, values, marker="o", color=colors[ci % len(colors)], label=f"{short}, layer {layer}")
                ci += 1
            else:
                ax_a.plot(epochs, 100 * values, marker="o", color=colors[ai % len(colors)], label=short)
                ax_a.axhline(100.0 / int(res["n_classes"]), color=colors[ai % len(colors)], ls=":", lw=1)
                ai += 1
    for ax in (ax_c, ax_a):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_c.set_xlabel("epoch (0 = initial weights)")
    ax_c.set_ylabel("convergence C = mean w(1-w) (unitless)")
    ax_c.set_title("STDP layers (C -> 0: binary weights)", fontsize=9)
    ax_c.set_ylim(bottom=0)
    ax_c.legend(fontsize=6, frameon=False)
    ax_a.set_xlabel("epoch")
    ax_a.set_ylabel("training accuracy (%)")
    ax_a.set_title("R-STDP decision layers (dotted: chance)", fontsize=9)
    ax_a.set_ylim(0, 100)
    ax_a.legend(fontsize=6, frameon=False)
    return fig


# ----------------------------------------------------------------------------- pipeline


def _slug(name: str) -> str:
    return name.replace("-", "_")


def run(ctx: Context) -> Result:
    """Train, test and plot the published spiking networks (see the module docstring)."""
    mode = "quick" if ctx.quick else "full"
    result = Result(data=list(DATASETS))

    # 1. Data: class-balanced subsets drawn with the run's seed (train) and seed + 1 (test).
    data_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def split(dataset: str, name: str, which: str, limit: int | None):
        key = (dataset, which, limit)
        if key not in data_cache:
            data_cache[key] = load_split(dataset, which, limit, RECIPES[name].image_size,
                                         ctx.seed if which == "train" else ctx.seed + 1)
        return data_cache[key]

    # 2. Train every network (cached: trained weights, logs and test predictions).
    results: dict[str, dict[str, np.ndarray]] = {}
    for name, budgets in BUDGETS.items():
        budget = budgets[mode]
        recipe = RECIPES[name]
        params = {"network": name, "budget": budget.__dict__, "overrides": OVERRIDES.get(name, {}),
                  "after_training": AFTER_TRAINING.get(name, {}),
                  "spec": {k: v for k, v in _build(name, ctx.seed).spec().items() if k != "progress"}}

        def compute(name=name, budget=budget, recipe=recipe):
            ctx.log(f"training {name} on {budget.n_train or 'all'} images, epochs {budget.epochs}")
            data = {"train": split(recipe.dataset, name, "train", budget.n_train),
                    "test": split(recipe.dataset, name, "test", budget.n_test)}
            return _train_and_test(name, budget, data, ctx.seed, ctx.progress)

        res = ctx.cached(f"net-{name}", params, compute)
        results[name] = res
        acc, n_classes = float(res["test_accuracy"]), int(res["n_classes"])
        ctx.log(f"{name}: test accuracy {acc:.3f} on {int(res['n_test'])} images "
                f"(chance {1 / n_classes:.2f}; paper {recipe.reported_accuracy}%), "
                f"trained on {int(res['n_train'])} images in {float(res['train_seconds']):.0f} s")
        floor = _accuracy_floor(name, n_classes, ctx.quick)
        if acc <= 1.0 / n_classes + 0.02:
            result.notes.append(f"{name} is at chance ({acc:.3f}; chance {1 / n_classes:.2f}): its training "
                                "did not generalise in this run (a known instability of our R-STDP training).")
        result.numbers += [
            Number(f"{_slug(name)}_test_accuracy", acc,
                   f"{name} test accuracy ({recipe.readout} read-out) on {int(res['n_test'])} held-out "
                   f"{recipe.dataset} images after training on {int(res['n_train'])} (epochs {list(budget.epochs)}); "
                   + (f"paper: {recipe.reported_accuracy}% on the full training set"
                      if np.isfinite(recipe.reported_accuracy) else "paper: no accuracy reported for this set"),
                   (floor, 1.0)),
        ]
        if "stdp_svm_accuracy" in res:
            result.numbers.append(Number(
                f"{_slug(name)}_stdp_features_svm_accuracy", float(res["stdp_svm_accuracy"]),
                f"{name}: test accuracy of a linear SVM on the global max potentials of its last STDP layer "
                "(diagnostic: information in the unsupervised features, independent of the R-STDP read-out)",
                (ACCURACY_FLOORS[f"{name}/stdp-svm"][1 if ctx.quick else 0], 1.0)))
        result.numbers += [
            Number(f"{_slug(name)}_chance", 1.0 / n_classes, f"{name} chance level (1 / classes)",
                   (1.0 / n_classes, 1.0 / n_classes)),
            Number(f"{_slug(name)}_train_seconds", float(res["train_seconds"]),
                   f"{name} training wall time (s) on this machine", (0.0, 3600.0)),
        ]

    # 3. Figures.
    fig = _accuracy_figure(results)
    ctx.save_figure(fig, "snn_learning_accuracy")
    result.figures.append(Figure("snn_learning_accuracy",
                                 "Test accuracy of each spiking network trained here (with training-set size and "
                                 "wall time) next to the paper's accuracy and chance."))

    rows = []
    for name, res in results.items():
        net = _restore(name, ctx.seed, res)
        short = _SHORT.get(name, name)
        for index, patterns in backproject_features(net).items():
            if isinstance(net.layers[index], DecisionLayer):
                per = len(patterns) // net.layers[index].n_classes
                # Show neurons of every class side by side (class order repeats).
                order = np.arange(len(patterns)).reshape(-1, per).T.reshape(-1)
                patterns = patterns[order][:10]  # the first neuron(s) of every class
                label = f"{short}\ndecision (classes alternate)"
            else:
                label = f"{short}\nconv layer {index}"
            rows.append((label, patterns))
    fig = _features_figure(rows)
    ctx.save_figure(fig, "snn_learning_features")
    result.figures.append(Figure("snn_learning_features",
                                 "Learned features in pixel space: each feature's weights back-projected through "
                                 "the layers below and the front-end (DoG / Gabor) kernels."))

    name = "kheradpisheh2018-mnist"
    net = _restore(name, ctx.seed, results[name])
    test_x, test_y = split(RECIPES[name].dataset, name, "test", BUDGETS[name][mode].n_test)
    pick = [int(np.flatnonzero(test_y == c)[0]) for c in np.unique(test_y)[:4]]
    maps = net.transform(test_x[pick])
    convs = [i for i, layer in enumerate(net.layers) if isinstance(layer, ConvLayer)]
    fig = _raster_figure(test_x[pick], test_y[pick], [(f"conv layer {i}", maps[i]) for i in convs], net.T)
    ctx.save_figure(fig, "snn_learning_raster")
    result.figures.append(Figure("snn_learning_raster",
                                 "First-spike times of every unit of each convolutional layer of the trained "
                                 "Kheradpisheh (2018) network for example test images (one spike per neuron at most)."))

    fig = _convergence_figure(results)
    ctx.save_figure(fig, "snn_learning_convergence")
    result.figures.append(Figure("snn_learning_convergence",
                                 "Convergence C = mean w(1-w) of each STDP layer per epoch and training accuracy "
                                 "of each R-STDP decision layer per epoch."))

    result.notes.append(
        "Trained on " + "; ".join(f"{n}: {int(r['n_train'])} images, epochs {list(BUDGETS[n][mode].epochs)}"
                                  for n, r in results.items())
        + ". The papers trained on the full training sets for many more epochs, so lower accuracy is expected.")
    changed = {n: {"before training": OVERRIDES.get(n, {}), "after training": AFTER_TRAINING.get(n, {})}
               for n in set(OVERRIDES) | set(AFTER_TRAINING)}
    if changed:
        result.notes.append("Layer attributes changed from the recipes: " + "; ".join(
            f"{n}: {o}" for n, o in sorted(changed.items())) + " (see analyses/snn_learning.py for why).")
    return result


def _accuracy_floor(name: str, n_classes: int, quick: bool) -> float:
    """Lowest sane test accuracy: clearly above chance for the budget of the mode."""
    return ACCURACY_FLOORS[name][1 if quick else 0]


#: (full, quick) lower bounds of the test accuracy key numbers.  Quick mode trains too
#: little for the R-STDP networks to beat chance reliably (200 MNIST images leave the STDP
#: layers unconverged and nearly every unit firing), so their quick floors only check that
#: the network makes decisions at all (no decision counts as an error, giving 0).
#: Full-budget floors sit well below what the full budgets measured (seed 0, 2026-11-27:
#: 0.95, 0.78 (SVM on its STDP features 0.66), 0.86, 0.98 in the order below).
ACCURACY_FLOORS: dict[str, tuple[float, float]] = {
    "kheradpisheh2018-mnist": (0.6, 0.3),
    "mozafari2019-mnist": (0.5, 0.02),
    "mozafari2019-mnist/stdp-svm": (0.4, 0.02),
    "mozafari2018-caltech": (0.6, 0.4),
    "mozafari2018-eth80": (0.8, 0.4),
}
