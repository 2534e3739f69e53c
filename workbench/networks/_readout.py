"""Read-outs and exported representations of trained networks.

* Kheradpisheh et al. (2018): the last convolutional layer has no threshold; each
  feature's membrane potential after all input spikes, max-pooled over positions, feeds a
  linear SVM.
* Representations for the analysis layer: per layer, each unit's first-spike latency (in
  time steps, ``T`` = silent) and spike count (0 or 1 under rank coding).
"""

from __future__ import annotations

import numpy as np

from ._layers import ConvLayer
from ._network import Network, _as_batches

__all__ = ["global_max_potentials", "SVMReadout", "layer_representations"]


def global_max_potentials(net: Network, images: np.ndarray, layer: int | None = None, batch_size: int = 256) -> np.ndarray:
    """Max over positions of the final potentials of a convolutional layer, (B, F).

    ``layer`` defaults to the last :class:`ConvLayer`.
    """
    if layer is None:
        layer = max(i for i, lay in enumerate(net.layers) if isinstance(lay, ConvLayer))
    conv_layer = net.layers[layer]
    if not isinstance(conv_layer, ConvLayer):
        raise ValueError(f"layer {layer} is a {type(conv_layer).__name__}, not a ConvLayer")
    out = []
    for idx in _as_batches(images.shape[0], batch_size):
        tmap = net._run(net.encode(images[idx]), 0, layer)[0]
        out.append(conv_layer.final_potentials(np.ascontiguousarray(tmap, dtype=np.int32), net.T).max(axis=(2, 3)))
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
