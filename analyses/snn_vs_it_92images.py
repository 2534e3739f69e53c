"""STDP spiking network vs macaque and human IT on the 92 object images.

Methods
-------
**Stimuli and brain data.**  The 92 colour object images of Kiani et al. (2007, J
Neurophysiol 97:4296-4309) and Kriegeskorte et al. (2008, Neuron 60:1126-1141), converted to
grey levels (ITU-R 601-2 luma) and resized from 175x175 to 160x160 pixels (bilinear), in
[0, 1].  Brain RDMs: the monkey IT RDM from 674 neurons (Kiani et al. 2007) and the human
IT fMRI RDM (316 voxels) of Kriegeskorte et al. (2008, Fig. 1), plus the eight per-subject,
per-session human IT RDMs (4 subjects x 2 sessions, ``92_brainRDMs.mat``).  The two sessions
of each subject are averaged, giving four subject RDMs: the random effect of the human
comparison and the basis of its noise ceiling.

**Network.**  The unsupervised STDP network of Kheradpisheh et al. (2018, Neural Networks
99:56-67), recipe ``kheradpisheh2018-caltech`` of :mod:`workbench.networks`: DoG on/off front
end, rank-order coding into T = 15 steps, conv1 (4 maps, 5x5), pool 7/6, conv2 (20 maps,
17x17), pool 5/5, conv3 (10 maps, 5x5), each convolutional layer with integrate-and-fire
neurons, pointwise inhibition and STDP with winner-take-all.  It is trained layer by layer,
without labels, on the Caltech-101 face/motorbike LearningSet (Fei-Fei et al. 2004; 237 +
237 grey images, 160x250 as in Kheradpisheh et al.), 4 epochs per layer; the quick mode
trains on 8 images for one epoch per layer (same code path).  Two changes to the recipe
(our choice): each image lets one neuron per feature map learn (k-winners-take-all with k =
the number of maps and an exclusion radius of 2 positions, instead of one winner per
image), and the STDP rates double every 500 images up to a+ = 0.15 (the schedule of the
MNIST recipe); with the recipe's single winner per image the weights barely move in a few
epochs.  Learning is tracked by Kheradpisheh et al.'s convergence C = mean w (1 - w).

**Representations.**  Each convolutional layer's response to each of the 92 images is read
as (a) the first-spike latency of every unit (time steps; a silent unit gets T) and (b) its
spike count (0 or 1 under rank-order coding).  Baselines: the pixels, the DoG front end's
filter responses, the rank-coded DoG latencies (the network's input spikes), and the same
network with its initial, untrained weights (latency code).  RDMs: correlation distance
(1 - Pearson r) between the images' response patterns (:func:`workbench.rsa.rdm`); an image
whose pattern is constant (e.g. a layer that stays silent) gets correlation 0 with every
other image (the rsatoolbox convention for zero-variance vectors), noted in the summary.

**Comparison.**  Spearman correlation of RDMs, as Kriegeskorte et al. (2008) used for the
monkey-human comparison (0.439 on these data).  :func:`workbench.rsa.evaluate` gives each
model's mean correlation with the four human subject RDMs, with a percentile bootstrap 95 %
interval over images (conditions resampled with replacement, Nili et al. 2014, PLoS Comput
Biol 10:e1003553) and the noise ceiling of the subject RDMs (lower bound: leave-one-subject-
out; upper: all subjects); the monkey IT RDM is compared the same way (one RDM, no ceiling).
The monkey IT RDM is also evaluated against the human subjects, as the reference that a
model of IT should approach.  The best layer is the trained-network representation with the
highest correlation with human IT.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from analyses._common import Context, Figure, Number, Result

__all__ = ["DATASETS", "TITLE", "run"]

TITLE = "STDP spiking network vs monkey and human IT on the 92 object images"
DATASETS = ("kriegeskorte2008_92images", "caltech_face_motor")

RECIPE = "kheradpisheh2018-caltech"
IMAGE_SIZE = (160, 160)  # the 92 images, 175x175 in the file
METHOD = "spearman"
# Category order of the RDM panels: animate (faces, bodies) before inanimate.
CATEGORY_ORDER = ("human face", "human bodypart", "nonhuman face", "nonhuman bodypart",
                  "natural inanimate", "artificial inanimate")


# Adaptations of the recipe (our choice, see the module docstring): one STDP winner per
# feature map (k = number of maps, exclusion radius 2) instead of one per image, and the
# learning rate doubled every 500 images up to a+ = 0.15 (as the MNIST recipe does).  With
# the recipe's single winner per image, 2 epochs leave the weights where they started
# (convergence C = mean w(1 - w) stays at its initial 0.16).
WTA_RADIUS = 2
LR_FACTOR = 2.0


def _settings(quick: bool) -> dict:
    # The quick mode runs the same steps on 8 training images, 1 epoch, fewer bootstraps.
    if quick:
        return {"n_train": 8, "epochs": [1, 1, 1], "n_bootstrap": 100}
    return {"n_train": None, "epochs": [4, 4, 4], "n_bootstrap": 1000}


def _build(seed: int):
    """The recipe's network with the learning adaptations above (weights as the recipe draws them)."""
    from workbench import networks

    net = networks.RECIPES[RECIPE].build(seed=seed)
    for i in _conv_indices(net):
        layer = net.layers[i]
        layer.wta_count, layer.wta_radius, layer.lr_factor = layer.out_channels, WTA_RADIUS, LR_FACTOR
        layer.reset_schedule()
    return net


# ----------------------------------------------------------------------------- data
def _load_92_images() -> xr.DataArray:
    """The 92 images, grey, resized to IMAGE_SIZE, float32 in [0, 1]: (92, 1, H, W)."""
    from PIL import Image

    from workbench import datasets

    da = datasets.load_92_images(grayscale=True)
    h, w = IMAGE_SIZE
    resized = np.stack([np.asarray(Image.fromarray(im).resize((w, h), Image.BILINEAR)) for im in da.values])
    images = (resized.astype(np.float32) / 255.0)[:, None]
    return xr.DataArray(images, dims=("image", "channel", "y", "x"),
                        coords={"image": da["image"].values, "category": ("image", da["category"].values),
                                "animate": ("image", da["animate"].values)})


def _training_images(n_train: int | None, seed: int) -> np.ndarray:
    """Caltech face/motorbike LearningSet, (n, 1, 160, 250) float32; a class-balanced subset if n_train."""
    from workbench import datasets

    da = datasets.load_caltech_face_motor("LearningSet", size=(160, 250))
    labels = da["label"].values
    keep = np.arange(labels.size)
    if n_train is not None:
        rng = np.random.default_rng(seed)
        per_class = max(1, n_train // 2)
        keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in (0, 1)]))
    return np.ascontiguousarray((da.values[keep].astype(np.float32) / 255.0)[:, None])


# ----------------------------------------------------------------------------- network
def _conv_indices(net) -> list[int]:
    from workbench.networks import ConvLayer

    return [i for i, layer in enumerate(net.layers) if isinstance(layer, ConvLayer)]


def _train_network(ctx: Context, settings: dict):
    """Build the recipe's network and train it layer-wise with STDP (cached weights)."""
    epochs = settings["epochs"]
    params = {"recipe": RECIPE, "epochs": epochs, "n_train": settings["n_train"], "wta_radius": WTA_RADIUS,
              "lr_factor": LR_FACTOR}

    def compute() -> dict:
        net = _build(ctx.seed)
        images = _training_images(settings["n_train"], ctx.seed)
        ctx.log(f"training {RECIPE} on {images.shape[0]} Caltech images, epochs {epochs}")
        out = {"n_train": np.array(images.shape[0])}
        for i, n_epochs in zip(_conv_indices(net), epochs):
            log = net.train_layer(i, images, epochs=n_epochs, seed=ctx.seed, progress=ctx.progress)
            out[f"weight{i}"] = net.layers[i].weight
            out[f"convergence{i}"] = np.array(log.rows[-1]["convergence"] if log.rows else np.nan)
        return out

    state = ctx.cached("weights", params, compute)
    net = _build(ctx.seed)
    for i in _conv_indices(net):
        net.layers[i].load_state({"weight": state[f"weight{i}"]})
    return net, state, epochs


# ----------------------------------------------------------------------------- RDMs
def _correlation_rdm(features: np.ndarray) -> tuple[np.ndarray, int]:
    """Correlation-distance RDM of patterns (n, P); returns it and the number of constant patterns.

    :func:`workbench.rsa.rdm` refuses constant patterns (their correlation is undefined);
    for those images the correlation with every other image is set to 0 (distance 1).
    """
    from workbench import rsa

    x = np.asarray(features, dtype=np.float64).reshape(features.shape[0], -1)
    constant = np.ptp(x, axis=1) == 0
    if not constant.any():
        return np.asarray(rsa.rdm(x, "correlation").values), 0
    z = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(z, axis=1)
    z[~constant] /= norm[~constant, None]
    z[constant] = 0.0
    d = 1.0 - z @ z.T
    np.fill_diagonal(d, 0.0)
    return (d + d.T) / 2.0, int(constant.sum())


def _model_rdms(ctx: Context, net, untrained, images: np.ndarray, state_key: dict) -> dict:
    """All model RDMs (cached): stack (M, 92, 92), names, and constant-pattern counts."""
    from workbench import networks

    def compute() -> dict:
        names, rdms, constant = [], [], []

        def add(name: str, feats: np.ndarray) -> None:
            d, n_const = _correlation_rdm(feats)
            names.append(name)
            rdms.append(d)
            constant.append(n_const)

        add("pixels", images)
        add("DoG", net.frontend(images))
        add("DoG spikes", net.encode(images).astype(np.float64))
        conv = _conv_indices(net)
        ctx.log("untrained network: forward pass of the 92 images")
        reps = networks.layer_representations(untrained, images, progress=ctx.progress)
        for k, i in enumerate(conv, 1):
            add(f"untrained conv{k}", reps[i]["latency"])
        ctx.log("trained network: forward pass of the 92 images")
        reps = networks.layer_representations(net, images, progress=ctx.progress)
        for k, i in enumerate(conv, 1):
            add(f"conv{k} latency", reps[i]["latency"])
        for k, i in enumerate(conv, 1):
            add(f"conv{k} count", reps[i]["spike_count"])
        rate = [float(reps[i]["spike_count"].mean()) for i in conv]
        return {"rdms": np.stack(rdms), "names": np.asarray(names), "constant": np.asarray(constant),
                "firing": np.asarray(rate)}

    return ctx.cached("model_rdms", state_key, compute)


def _as_rdm_stack(rdms: np.ndarray, names, category: np.ndarray) -> xr.DataArray:
    cond = np.arange(rdms.shape[-1])
    return xr.DataArray(rdms, dims=("model", "condition", "condition_b"),
                        coords={"model": [str(n) for n in names], "condition": cond, "condition_b": cond,
                                "category": ("condition", category), "category_b": ("condition_b", category)})


# ----------------------------------------------------------------------------- figures
def _order(category: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    rank = np.array([CATEGORY_ORDER.index(str(c)) for c in category])
    order = np.argsort(rank, kind="stable")
    bounds = np.flatnonzero(np.diff(rank[order])) + 1
    present = [CATEGORY_ORDER[r] for r in np.unique(rank)]
    return order, present, bounds


def _rank_percentile(d: np.ndarray) -> np.ndarray:
    """Off-diagonal dissimilarities as percentiles (0-100), as Kriegeskorte et al. (2008) showed RDMs."""
    from scipy.stats import rankdata

    iu = np.triu_indices(d.shape[0], 1)
    r = rankdata(d[iu])
    out = np.zeros_like(d)
    out[iu] = 100.0 * (r - 1) / max(r.size - 1, 1)
    return out + out.T


def _rdm_panel(panels: list[tuple[str, np.ndarray]], category: np.ndarray):
    from matplotlib.figure import Figure as MplFigure

    order, names, bounds = _order(category)
    n = len(panels)
    cols = 4
    rows = -(-n // cols)
    fig = MplFigure(figsize=(3.1 * cols, 3.2 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    im = None
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [category.size]])
    centres = (starts + ends - 1) / 2.0
    short = [c.replace("artificial", "artif.").replace("natural", "nat.").replace("nonhuman", "animal")
             .replace("bodypart", "body") for c in names]
    for ax, (title, d) in zip(axes.ravel(), panels):
        im = ax.imshow(_rank_percentile(d)[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=100,
                       interpolation="nearest")
        for b in bounds:
            ax.axhline(b - 0.5, color="white", lw=0.8)
            ax.axvline(b - 0.5, color="white", lw=0.8)
        ax.set_title(title, fontsize="medium")
        ax.set_xticks(centres, short, rotation=60, ha="right", fontsize="x-small")
        ax.set_yticks(centres, short, fontsize="x-small")
        ax.set_xlabel("image (by category)", fontsize="small")
        ax.set_ylabel("image (by category)", fontsize="small")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.colorbar(im, ax=axes, shrink=0.6, label="dissimilarity (percentile of 1 - Pearson r)")
    return fig


def _bar_figure(ev: xr.Dataset, title: str, ceiling: bool):
    from workbench import plots

    keep = ["evaluation", "ci_low", "ci_high"] + (["noise_ceiling"] if ceiling else [])
    # No pairwise brackets: with a dozen models they would hide the bars.
    return plots.plot_model_comparison(ev[keep], ylabel="RDM correlation (Spearman r)", title=title)


# ----------------------------------------------------------------------------- run
def _slug(name: str) -> str:
    return name.replace(" ", "_").replace("-", "_").lower()


def run(ctx: Context) -> Result:
    from workbench import datasets, plots, rsa

    settings = _settings(ctx.quick)
    result = Result(data=list(DATASETS))

    # 1. Brain RDMs: monkey IT, human IT (group and four session-averaged subjects).
    brain = datasets.load_it_rdms()
    category = np.asarray(brain["category"].values).astype(str)
    monkey = np.asarray(brain["monkey_it"].values)
    human = np.asarray(brain["human_it"].values)
    subjects = np.asarray(brain["human_it_subjects"].mean("session").values)
    subject_names = [str(s) for s in brain["subject"].values]
    monkey_human = float(rsa.compare(monkey, human, METHOD)[0, 0])
    ctx.log(f"monkey IT vs human IT (group RDMs): Spearman {monkey_human:.3f} (0.439 expected)")

    # 2. Network: trained with STDP on Caltech (cached), and the same network untrained.
    net, state, epochs = _train_network(ctx, settings)
    untrained = _build(ctx.seed)

    # 3. Model RDMs of the 92 images.
    stim = _load_92_images()
    if not np.array_equal(stim["category"].values.astype(str), category):
        raise RuntimeError("the 92 images and the brain RDMs list different categories")
    images = np.ascontiguousarray(stim.values)
    key = {"recipe": RECIPE, "epochs": epochs, "n_train": settings["n_train"], "size": IMAGE_SIZE,
           "wta_radius": WTA_RADIUS, "lr_factor": LR_FACTOR}
    models = _model_rdms(ctx, net, untrained, images, key)
    names = [str(n) for n in models["names"]]
    stack = _as_rdm_stack(models["rdms"], names, category)
    for n, c in zip(names, models["constant"]):
        if c:
            result.notes.append(f"{n}: {int(c)} image(s) with a constant response pattern (correlation 0 used)")

    # 4. Evaluation with bootstrap over images and the human noise ceiling (cached).
    n_boot = settings["n_bootstrap"]
    human_models = xr.concat([stack, _as_rdm_stack(monkey[None], ["monkey IT"], category)], dim="model")
    subj = xr.DataArray(subjects, dims=("subject", "condition", "condition_b"), coords={"subject": subject_names})
    ev_params = {**key, "method": METHOD, "n_bootstrap": n_boot, "models": names}

    def eval_human() -> xr.Dataset:
        ctx.log(f"bootstrap ({n_boot} resamplings of the images) against the human IT subjects")
        return rsa.evaluate(human_models, subj.values, METHOD, bootstrap="conditions", n_bootstrap=n_boot,
                            seed=ctx.seed).drop_vars(["pairwise_reject"])

    def eval_monkey() -> xr.Dataset:
        ctx.log(f"bootstrap ({n_boot} resamplings of the images) against monkey IT")
        return rsa.evaluate(stack, monkey[None], METHOD, bootstrap="conditions", n_bootstrap=n_boot,
                            seed=ctx.seed).drop_vars(["pairwise_reject"])

    ev_h = ctx.cached("eval_human_it", ev_params, eval_human)
    ev_m = ctx.cached("eval_monkey_it", ev_params, eval_monkey)
    lower, upper = (float(v) for v in ev_h["noise_ceiling"].values)

    # 5. Best layer of the trained network (highest correlation with human IT).
    trained = [n for n in names if n.startswith("conv")]
    h_scores = ev_h["evaluation"].sel(model=trained).values
    best = trained[int(np.argmax(h_scores))]
    best_index = int(best[4])  # "conv<k> ..."
    ctx.log(f"best layer: {best} (human IT r = {float(ev_h['evaluation'].sel(model=best)):.3f})")

    # 6. Figures.
    panels = [("monkey IT (674 neurons)", monkey), ("human IT (fMRI, 316 voxels)", human),
              ("pixels", stack.sel(model="pixels").values), ("DoG front end", stack.sel(model="DoG").values),
              ("DoG spikes (network input)", stack.sel(model="DoG spikes").values)]
    panels += [(f"SNN {n}", stack.sel(model=n).values) for n in trained if n.endswith("latency")]
    panels += [(f"SNN {best} (best)", stack.sel(model=best).values)] if best.endswith("count") else []
    ctx.save_figure(_rdm_panel(panels, category), "snn_vs_it_92images_rdms")
    result.figures.append(Figure("snn_vs_it_92images_rdms",
                                 "RDMs of the 92 images (percentiles of 1 - Pearson r), ordered by category "
                                 "(faces, bodies; human, animal; natural, artificial inanimate): monkey and human "
                                 "IT, pixels, the DoG front end (filter responses and rank-coded latencies) and each "
                                 "layer of the trained STDP network (latency code)."))
    ctx.save_figure(_bar_figure(ev_h, "vs human IT (4 subjects)", ceiling=True), "snn_vs_it_92images_human_it")
    result.figures.append(Figure("snn_vs_it_92images_human_it",
                                 f"Spearman correlation of each model RDM with the human IT subject RDMs (mean over "
                                 f"4 subjects), 95 % bootstrap intervals over images ({n_boot} resamplings), grey "
                                 "band: noise ceiling; the last bar is monkey IT."))
    ctx.save_figure(_bar_figure(ev_m, "vs monkey IT (674 neurons)", ceiling=False), "snn_vs_it_92images_monkey_it")
    result.figures.append(Figure("snn_vs_it_92images_monkey_it",
                                 f"Spearman correlation of each model RDM with the monkey IT RDM, 95 % bootstrap "
                                 f"intervals over images ({n_boot} resamplings)."))
    best_rdm = stack.sel(model=best).drop_vars("model")
    fig = plots.plot_mds(best_rdm, category="category", seed=ctx.seed, title=f"MDS of SNN {best}")
    # The legend goes beside the axes: inside, it hides points of the cloud.
    fig.axes[0].legend(frameon=False, fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    ctx.save_figure(fig, "snn_vs_it_92images_mds")
    result.figures.append(Figure("snn_vs_it_92images_mds",
                                 f"Metric MDS of the best layer's RDM ({best}), images coloured by category."))

    # 7. Key numbers.
    result.numbers.append(Number("monkey_vs_human_it", monkey_human,
                                 "Spearman r of the monkey IT and human IT group RDMs (Kriegeskorte et al. 2008: 0.439)",
                                 (0.43, 0.45)))
    result.numbers.append(Number("monkey_it_vs_human_subjects", float(ev_h["evaluation"].sel(model="monkey IT")),
                                 "mean Spearman r of monkey IT with the 4 human subject RDMs", (0.2, 0.45)))
    result.numbers.append(Number("human_noise_ceiling_lower", lower, "human IT noise ceiling, lower bound (Spearman)",
                                 (0.3, 0.45)))
    result.numbers.append(Number("human_noise_ceiling_upper", upper, "human IT noise ceiling, upper bound (Spearman)",
                                 (0.6, 0.75)))
    for n in names:
        for label, ev in (("human_it", ev_h), ("monkey_it", ev_m)):
            sel = ev.sel(model=n)
            result.numbers.append(Number(
                f"{_slug(n)}_vs_{label}", float(sel["evaluation"]),
                f"Spearman r of {n} with {label.replace('_', ' ')} (95 % CI {float(sel['ci_low']):.3f} to "
                f"{float(sel['ci_high']):.3f})", (-1.0, 1.0)))
    result.numbers.append(Number("best_layer", float(best_index),
                                 f"trained conv layer closest to human IT ({best})", (1, 3)))
    result.numbers.append(Number("best_layer_vs_human_it", float(ev_h["evaluation"].sel(model=best)),
                                 f"Spearman r of {best} with human IT", (-1.0, 1.0)))
    conv = _conv_indices(net)
    for k, i in enumerate(conv, 1):
        result.numbers.append(Number(f"conv{k}_convergence", float(state[f"convergence{i}"]),
                                     "Kheradpisheh et al.'s C = mean w(1 - w) after training (0 = converged)",
                                     (0.0, 0.25)))
        result.numbers.append(Number(f"conv{k}_firing_fraction", float(models["firing"][k - 1]),
                                     f"fraction of conv{k} units that fire for the 92 images", (0.0, 1.0)))
    result.notes.append(f"network trained on {int(state['n_train'])} Caltech face/motorbike LearningSet images, "
                        f"epochs per layer {epochs}")
    return result
