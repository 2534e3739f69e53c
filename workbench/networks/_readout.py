"""Read-outs and exported representations of trained networks.

* Kheradpisheh et al. (2018): the last convolutional layer has no threshold; each
  feature's membrane potential after all input spikes, max-pooled over positions, feeds a
  linear SVM.
* Representations for the analysis layer: per layer, each unit's first-spike latency (in
  time steps, ``T`` = silent) and spike count (0 or 1 under rank coding).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ._layers import ConvLayer
from ._network import Network, _as_batches

__all__ = ["global_max_potentials", "SVMReadout", "layer_representations"]


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

        self.model = make_pipeline(StandardScaler(), LinearSVC(C=C, random_state=seed, max_iter=20000))

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
