"""Read-outs and exported representations of trained networks.

* Kheradpisheh et al. (2018): the last convolutional layer has no threshold; each
  feature's membrane potential after all input spikes, max-pooled over positions, feeds a
  linear SVM.
* Representations for the analysis layer: per layer, each unit's first-spike latency (in
  time steps, ``T`` = silent) and spike count (0 or 1 under rank coding).
* A linear probe: what a ridge classifier reads from the spikes a layer receives, to tell
  a weak representation from a layer that fails to use a good one.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ._layers import ConvLayer
from ._network import Network, _as_batches

__all__ = ["global_max_potentials", "SVMReadout", "layer_representations", "linear_probe"]


def _region_max(pot: np.ndarray, regions: int) -> np.ndarray:
    # (B, F, H, W) -> (B, regions*regions*F): max over each cell of a regions x regions grid
    # (cells as equal as possible, row-major), cell-major so regions=1 is the global max.
    B, F, H, W = pot.shape
    rows, cols = np.array_split(np.arange(H), regions), np.array_split(np.arange(W), regions)
    return np.concatenate([pot[:, :, r[0]:r[-1] + 1, c[0]:c[-1] + 1].max(axis=(2, 3)) for r in rows for c in cols], axis=1)


def global_max_potentials(net: Network, images: np.ndarray, layer: int | None = None, batch_size: int = 256,
                          regions: int | None = None) -> np.ndarray:
    """Max over positions of the final potentials of a convolutional layer.

    Parameters
    ----------
    net : Network
    images : ndarray, float32/float64, shape (B, C, H, W)
    layer : int, optional
        Index of a :class:`ConvLayer`; defaults to ``net.meta["readout_layer"]`` or the last one.
    batch_size : int
    regions : int, optional
        Pool over a ``regions x regions`` grid of cells instead of the whole map (1, the
        paper's global pooling).  Defaults to ``net.meta["readout_regions"]`` or 1.

    Returns
    -------
    ndarray, shape (B, regions**2 * F)
        Cell-major: columns ``[cell 0 features..., cell 1 features..., ...]``.
    """
    if layer is None:
        layer = net.meta.get("readout_layer")
    if layer is None:
        layer = max(i for i, lay in enumerate(net.layers) if isinstance(lay, ConvLayer))
    check_int(layer, "layer", min_value=0, max_value=len(net.layers) - 1)
    check_int(batch_size, "batch_size", min_value=1)
    regions = check_int(net.meta.get("readout_regions", 1) if regions is None else regions, "regions", min_value=1)
    conv_layer = net.layers[layer]
    if not isinstance(conv_layer, ConvLayer):
        raise ValueError(f"layer {layer} is a {type(conv_layer).__name__}, not a ConvLayer")
    out = []
    for idx in _as_batches(images.shape[0], batch_size):
        tmap = net._run(net.encode(images[idx]), 0, layer)[0]
        pot = conv_layer.final_potentials(np.ascontiguousarray(tmap, dtype=np.int32), net.T)
        if regions > min(pot.shape[2:]):
            raise ValueError(f"regions ({regions}) exceeds the map size {pot.shape[2:]} of layer {layer}")
        out.append(_region_max(pot, regions))
    return np.concatenate(out)


class SVMReadout:
    """Standardised linear SVM on network features (scikit-learn ``LinearSVC``).

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    seed : int
    """

    def __init__(self, C: float = 1.0, seed: int = 0) -> None:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC

        # Primal solver always: "auto" picks the dual one when features outnumber samples,
        # where liblinear often stops unconverged on small, separable training sets.
        self.model = make_pipeline(StandardScaler(), LinearSVC(C=C, dual=False, random_state=seed, max_iter=20000))

    def fit(self, features: np.ndarray, labels: np.ndarray) -> SVMReadout:
        self.model.fit(features, labels)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict(features)

    def score(self, features: np.ndarray, labels: np.ndarray) -> float:
        return float(np.mean(self.predict(features) == labels))


def layer_representations(net: Network, images: np.ndarray, batch_size: int = 256, progress: bool = False):
    """Per-layer first-spike latencies and spike counts.

    Returns
    -------
    list of dict
        One per layer: ``{"latency": uint8/int32 (B, C, H, W), "spike_count": uint8 (B, C, H, W)}``;
        latency ``T`` means the unit stayed silent.
    """
    tmaps = net.transform(images, batch_size=batch_size, progress=progress)
    reps = []
    for tmap in tmaps:
        latency = tmap.astype(np.uint8) if net.T < 255 else tmap
        reps.append({"latency": latency, "spike_count": (tmap < net.T).astype(np.uint8)})
    return reps


# Largest linear system (rows) and largest dense float64 design matrix (elements, 1.6 GB)
# the probe builds.
_PROBE_MAX_SYSTEM = 20_000
_PROBE_MAX_ELEMENTS = 200_000_000


def _probe_code(tmap: np.ndarray, T: int, code: str) -> np.ndarray:
    """(B, ...) first-spike times -> (B, n + 1) float64 with a bias column: ``(T - t) / T``
    (``code="latency"``) or 1 (``"fired"``) for a spike, 0 when silent."""
    t = tmap.reshape(tmap.shape[0], -1).astype(np.float64)
    x = np.where(t < T, (T - t) / T if code == "latency" else 1.0, 0.0)
    return np.hstack([x, np.ones((t.shape[0], 1))])


def linear_probe(net: Network, train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                 test_labels: np.ndarray, layer: int | None = None, alpha: float = 1.0, code: str = "latency",
                 chunk: int = 4096) -> dict:
    """Accuracy of a ridge classifier on the spikes that layer ``layer`` receives.

    Each input unit's first spike at step ``t`` is coded as ``(T - t) / T``, or as 1 with
    ``code="fired"`` (0 when silent), and a ridge regression onto one-vs-rest targets
    (+1 / -1) is fitted in closed form on the training images; the class with the largest
    output is predicted.  The probe is a yardstick, not
    part of any published network: when it is far above the layer's own accuracy the layer
    fails to use its input, and when it is close the input itself limits the layer.

    Parameters
    ----------
    net : Network
    train_images, test_images : ndarray, float32/float64, shape (B, C, H, W)
    train_labels, test_labels : ndarray of int, shape (B,)
    layer : int, optional
        Probe the input of this layer (default: the last layer, e.g. a decision layer).
    alpha : float
        Ridge penalty (> 0).
    code : {"latency", "fired"}
        ``"fired"`` keeps only whether each unit spiked -- all a thresholdless decision
        layer that integrates to the end (Mozafari et al. 2019) sees of its input.
    chunk : int
        Samples per block of the normal equations (bounds memory).

    Returns
    -------
    dict
        ``train_accuracy``, ``test_accuracy``, ``n_features`` (input units).
    """
    layer = len(net.layers) - 1 if layer is None else check_int(layer, "layer", min_value=0,
                                                                  max_value=len(net.layers) - 1)
    alpha = check_float(alpha, "alpha", min_value=0.0, strict_min=True)
    check_int(chunk, "chunk", min_value=1)
    check_choice(code, "code", ("latency", "fired"))
    train_labels = check_array(np.asarray(train_labels), "train_labels", ndim=1)
    test_labels = check_array(np.asarray(test_labels), "test_labels", ndim=1)
    for name, x, y in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if len(x) != len(y):
            raise ValueError(f"{name}_images has {len(x)} images but {name}_labels has {len(y)} labels")
    classes, y = np.unique(train_labels, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("the probe needs training images of at least two classes")
    train_in = net.layer_input(train_images, layer)
    test_in = net.layer_input(test_images, layer)
    n, d = len(train_in), int(np.prod(train_in.shape[1:])) + 1
    targets = np.where(np.arange(len(classes)) == y[:, None], 1.0, -1.0)
    if min(n, d) > _PROBE_MAX_SYSTEM or (d > n and n * d > _PROBE_MAX_ELEMENTS):
        raise ValueError(f"a probe of {d - 1} input units from {n} training images is too large to solve here; "
                         "use fewer training images or probe a smaller layer")
    if d <= n:
        # Normal equations (d x d) accumulated block by block: never the whole float matrix at once.
        gram, cross = np.zeros((d, d)), np.zeros((d, len(classes)))
        for start in range(0, n, chunk):
            x = _probe_code(train_in[start:start + chunk], net.T, code)
            gram += x.T @ x
            cross += x.T @ targets[start:start + chunk]
        gram[np.diag_indices(d)] += alpha
        weights = np.linalg.solve(gram, cross)
    else:
        # More units than images: the same solution from the n x n system,
        # (X'X + aI)^-1 X' = X' (XX' + aI)^-1.
        x = _probe_code(train_in, net.T, code)
        kernel = x @ x.T
        kernel[np.diag_indices(n)] += alpha
        weights = x.T @ np.linalg.solve(kernel, targets)

    def accuracy(tmaps: np.ndarray, labels: np.ndarray) -> float:
        hits = sum(int(np.sum(classes[np.argmax(_probe_code(tmaps[s:s + chunk], net.T, code) @ weights, axis=1)]
                              == labels[s:s + chunk])) for s in range(0, len(tmaps), chunk))
        return hits / len(labels)

    return {"train_accuracy": accuracy(train_in, train_labels), "test_accuracy": accuracy(test_in, test_labels),
            "n_features": d - 1}
