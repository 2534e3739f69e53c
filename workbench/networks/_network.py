"""A small composable network API: a front end, rank-order coding, and stacked layers.

A :class:`Network` is a front end (a filter bank from :mod:`workbench.snn` and optional
normalisation), rank-order coding into ``T`` steps, and a list of :mod:`._layers` blocks.
Training is layer-wise: the input of the layer being trained is computed once from the
frozen layers below and cached (compactly, one byte per neuron), then reused every epoch.
Checkpoints are written atomically and training resumes from them.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import snn
from .._warnings import WorkbenchWarning
from .._validation import FLOAT_DTYPES, check_array, check_float, check_int, check_pair
from ._layers import ConvLayer, DecisionLayer, Layer, layer_from_spec

__all__ = ["Frontend", "Network", "TrainingLog"]

CHECKPOINT_FORMAT = 1
# Samples per call of an online (decision) layer: results do not depend on it.
_ONLINE_BATCH = 1024


@dataclass
class Frontend:
    """Image front end: a filter bank of :mod:`workbench.snn` plus optional steps.

    Parameters
    ----------
    filter : str
        Name of a filter-bank class in :mod:`workbench.snn` (``"DoG"``, ``"Gabor"``, ``"LoG"``),
        or ``"none"``.
    filter_args : dict
        Its constructor arguments (JSON-serialisable, so checkpoints can rebuild it).
    local_normalization : int or None
        Radius of :func:`workbench.snn.local_normalize` applied after the filter.
    lateral_inhibition : bool
        Apply :func:`workbench.snn.lateral_inhibition` (Mozafari et al. 2018 front end).
    threshold : float or None
        Filter responses below this value are set to 0 before normalisation (so they never
        fire).  SpykeTorch's reproductions of Kheradpisheh et al. (2018) and Mozafari et al.
        (2019) drop DoG responses below 50 on 0..255 images with kernels scaled to a peak of
        1; with ``peak_normalize`` and images in [0, 1] that is ``50 / 255``.
    peak_normalize : bool
        Divide each DoG output channel by its kernel's peak (``max(G1 - G2)``), so every
        kernel has a peak of 1 as in SpykeTorch's ``DoGKernel``.  Without it an off-centre
        kernel (sigma 2, 1: peak 0.014, ~8x below its on-centre twin's) gives weaker responses,
        which rank coding turns into systematically later spikes.  DoG only.
    rectify : bool
        Take the absolute value of the filter responses (Mozafari et al. 2018's Gabor S1:
        a neuron responds to its edge orientation of either polarity).
    pool : (int, int) or None
        ``(window, stride)`` max pooling of the (rectified) intensities before lateral
        inhibition and coding, as Mozafari et al. (2018) pool S1 into C1 (Caltech: 7, 6).
        Pooling intensities and then coding equals coding and then pooling first spikes,
        but lateral inhibition then acts on the C1 map, as in the paper.
    pointwise_inhibition : bool
        After rank-order coding keep, at each position, only the feature that spikes first
        (ties: the larger intensity), as Mozafari et al. (2018) do on C1.
    """

    filter: str = "DoG"
    filter_args: dict[str, Any] = field(default_factory=dict)
    local_normalization: int | None = None
    lateral_inhibition: bool = False
    threshold: float | None = None
    peak_normalize: bool = False
    rectify: bool = False
    pool: tuple[int, int] | None = None
    pointwise_inhibition: bool = False

    def __post_init__(self) -> None:
        for name in ("peak_normalize", "rectify", "pointwise_inhibition"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")
        if self.pool is not None:
            self.pool = check_pair(self.pool, "pool", min_value=1)  # (window, stride)
        if self.threshold is not None:
            self.threshold = check_float(self.threshold, "threshold", min_value=0.0)
        if self.peak_normalize and self.filter != "DoG":
            raise ValueError(f"peak_normalize needs the DoG filter, got filter={self.filter!r}")
        self._bank = None if self.filter == "none" else getattr(snn, self.filter)(**self.filter_args)
        self._scale = None
        if self.peak_normalize:
            peaks = (self._bank.kernel[0] - self._bank.kernel[1]).max(axis=(1, 2))  # (F,)
            self._scale = (1.0 / peaks)[None, :, None, None]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = images if self._bank is None else self._bank(images)
        if self._scale is not None:
            # Output channel c*F + f holds filter f of input channel c.
            B, CF, H, W = x.shape
            F = self._scale.shape[1]
            x = (x.reshape(B, CF // F, F, H, W) * self._scale[:, None].astype(x.dtype)).reshape(B, CF, H, W)
        if self.rectify:
            x = np.abs(x)
        if self.pool is not None:
            x = _max_pool_intensity(x, *self.pool)
        if self.threshold is not None:
            # Weak responses would otherwise fire late but still fire under rank coding,
            # flooding the first layer with background spikes.
            x = np.where(x < self.threshold, x.dtype.type(0), x)
        if self.local_normalization:
            x = snn.local_normalize(x, self.local_normalization)
        if self.lateral_inhibition:
            x = snn.lateral_inhibition(x)
        return np.ascontiguousarray(x)

    def spec(self) -> dict[str, Any]:
        return {
            "filter": self.filter,
            "filter_args": self.filter_args,
            "local_normalization": self.local_normalization,
            "lateral_inhibition": self.lateral_inhibition,
            "threshold": self.threshold,
            "peak_normalize": self.peak_normalize,
            "rectify": self.rectify,
            "pool": list(self.pool) if self.pool is not None else None,
            "pointwise_inhibition": self.pointwise_inhibition,
        }


def _max_pool_intensity(x: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Max pooling ``(B, C, H, W) -> (B, C, H', W')`` of intensities, no padding."""
    if x.shape[2] < window or x.shape[3] < window:
        raise ValueError(f"images of {x.shape[2]}x{x.shape[3]} after filtering are smaller than the "
                         f"front end's pooling window {window}")
    return snn.max_pool(x[:, None], window, stride)[:, 0]  # one time step of float intensities


@dataclass
class TrainingLog:
    """Per-epoch metrics, appended to a CSV file when ``path`` is given.

    The CSV has the fixed columns :attr:`COLUMNS`; a metric a layer does not have (the
    convergence of a decision layer, the accuracy of a convolution) is left empty.
    """

    path: Path | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    COLUMNS = ("layer", "epoch", "seconds", "convergence", "train_accuracy", "train_silent", "silent_after_epoch")

    def append(self, **row: Any) -> None:
        unknown = set(row) - set(self.COLUMNS)
        if unknown:
            raise ValueError(f"unknown training-log column(s) {sorted(unknown)}; known: {', '.join(self.COLUMNS)}")
        self.rows.append(row)
        if self.path is None:
            return
        new = not self.path.exists()
        with open(self.path, "a", encoding="utf-8") as f:
            if new:
                f.write(",".join(self.COLUMNS) + "\n")
            values = (row.get(k, "") for k in self.COLUMNS)
            f.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in values) + "\n")


def _as_batches(n: int, batch_size: int, order: np.ndarray | None = None):
    idx = np.arange(n) if order is None else order
    for start in range(0, n, batch_size):
        yield idx[start : start + batch_size]


def _compact(tmap: np.ndarray, T: int) -> np.ndarray:
    # Cached time maps take one byte per neuron when T fits (it does for rank coding).
    return tmap.astype(np.uint8) if T < 255 else tmap


def _progress(iterable, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False)


class Network:
    """Front end + rank-order coding + layers, on first-spike time maps.

    Parameters
    ----------
    frontend : Frontend
    layers : sequence of Layer
    T : int
        Number of time steps of the rank-order code.
    name : str
    meta : dict, optional
        Free-form, JSON-serialisable information stored in checkpoints (e.g. citation).

    Examples
    --------
    A two-layer STDP network in a few lines::

        from workbench import networks as nw
        net = nw.Network(
            nw.Frontend("DoG", {"size": 3, "filters": [(1.0, 2.0), (2.0, 1.0)], "pad": 3}),
            [nw.ConvLayer(2, 16, 5, threshold=10, padding=2), nw.PoolLayer(2, 2),
             nw.ConvLayer(16, 32, 3, threshold=8, padding=1), nw.GlobalPool()],
            T=15,
        )
        net.train_layer(0, images, epochs=1)
        features = net.transform(images)          # per-layer first-spike time maps
    """

    def __init__(self, frontend: Frontend, layers: Sequence[Layer], T: int = 15, name: str = "network",
                 meta: dict[str, Any] | None = None) -> None:
        self.frontend = frontend
        self.layers = list(layers)
        self.T = check_int(T, "T", min_value=1, max_value=254)
        self.name = name
        self.meta = dict(meta or {})
        self.progress_state: dict[str, Any] = {"layer": 0, "epoch": 0}
        # Epochs each layer has been trained for (None: finished, count not recorded -- a
        # checkpoint from before these counts were kept).  Lets a finished layer be trained
        # further as long as nothing above it has learned from its output.
        self.epochs_trained: list[int | None] = [0] * len(self.layers)
        # Seconds spent in training epochs, summed over every run that built this network.
        self.epoch_seconds = 0.0
        # Layers a stop rule ended (index -> why): finished, so a resumed run does not go on.
        self.stopped: dict[int, str] = {}

    # ------------------------------------------------------------ inference
    def encode(self, images: np.ndarray) -> np.ndarray:
        """Front end + rank-order coding: images (B, C, H, W) -> time map int32."""
        images = check_array(images, "images", ndim=4, dtypes=FLOAT_DTYPES, finite=True, min_shape=(1, 1, 1, 1))
        x = self.frontend(images)
        tmap = snn.sparse.code(x, self.T)
        if self.frontend.pointwise_inhibition:
            tmap = snn.sparse.inhibit(tmap, x, self.T)[0]
        return tmap

    def _run(self, tmap: np.ndarray, start: int, stop: int, keep: bool = False) -> list[np.ndarray]:
        outputs = []
        for layer in self.layers[start:stop]:
            tmap = layer.forward(np.ascontiguousarray(tmap, dtype=np.int32), self.T)
            if keep:
                outputs.append(tmap)
        return outputs if keep else [tmap]

    def transform(self, images: np.ndarray, batch_size: int = 256, progress: bool = False) -> list[np.ndarray]:
        """First-spike time maps of every layer, ``[layer 0 output, layer 1 output, ...]``."""
        per_layer: list[list[np.ndarray]] = [[] for _ in self.layers]
        n = images.shape[0]
        for idx in _progress(_as_batches(n, batch_size), -(-n // batch_size), "forward", progress):
            outs = self._run(self.encode(images[idx]), 0, len(self.layers), keep=True)
            for store, out in zip(per_layer, outs):
                store.append(out)
        return [np.concatenate(s) for s in per_layer]

    def layer_input(self, images: np.ndarray, index: int, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """Input time map of layer ``index`` for all images (compact dtype), computed once."""
        chunks = []
        n = images.shape[0]
        for idx in _progress(_as_batches(n, batch_size), -(-n // batch_size), f"cache input of layer {index}", progress):
            chunks.append(_compact(self._run(self.encode(images[idx]), 0, index)[0], self.T))
        return np.concatenate(chunks)

    # ------------------------------------------------------------ training
    def epochs_to_train(self, index: int, epochs: int) -> int:
        """How many epochs :meth:`train_layer` ``(index, epochs=epochs)`` would run.

        ``epochs`` is the layer's total: the epochs it has already had are not repeated, so
        a finished layer is trained further when ``epochs`` exceeds them -- unless a layer
        above it has already learned from its output (0 is returned: training it again
        would pull that input from under the layer above), or the checkpoint it came from
        did not record its epochs, or a stop rule ended its training (:attr:`stopped`).
        """
        check_int(index, "index", min_value=0, max_value=len(self.layers) - 1)
        check_int(epochs, "epochs", min_value=0)
        # One count per layer, also after layers were appended or removed (appended: no epochs).
        n = len(self.layers)
        self.epochs_trained = (self.epochs_trained + [0] * n)[:n]
        done = self.epochs_trained[index]
        if done is None or index in self.stopped or self._trained_above(index):
            return 0
        return max(epochs - done, 0)

    def _trained_above(self, index: int) -> list[int]:
        return [i for i in range(index + 1, len(self.layers)) if self.epochs_trained[i] != 0]

    def why_frozen(self, index: int, epochs: int) -> str:
        """Why layer ``index`` gets no more training toward ``epochs`` total epochs.

        The reason, in words, that :meth:`epochs_to_train` returns 0, for a message to a
        user (when the layer simply has had its epochs, it says that).
        """
        above = self._trained_above(index)
        if above:
            return f"layer {above[0]} above it has already been trained on its output"
        if self.epochs_trained[index] is None:
            return "it was trained by a checkpoint that did not record its epochs"
        if index in self.stopped:
            return f"its training stopped at epoch {self.epochs_trained[index]} ({self.stopped[index]})"
        return f"it has had {self.epochs_trained[index]} of the {epochs} epochs asked for"

    def train_layer(
        self,
        index: int,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        seed: int = 0,
        checkpoint: str | os.PathLike | None = None,
        log: TrainingLog | None = None,
        progress: bool = False,
        cached_input: np.ndarray | None = None,
        stop_convergence: float | None = None,
        stop_silent: bool = False,
        silent_margin: float = 1.0,
        callback: Callable[[int, dict[str, Any]], None] | None = None,
        restart: bool = False,
    ) -> TrainingLog:
        """Train layer ``index`` (earlier layers frozen) for ``epochs`` passes.

        ``epochs`` is the layer's total number of epochs.  Epochs it has already had (see
        :attr:`epochs_trained`, restored by :meth:`load`) are skipped, so an interrupted run
        resumes, and a finished layer is trained further when ``epochs`` is larger -- but
        not once a layer above it has been trained (see :meth:`epochs_to_train`; a
        :class:`~workbench.WorkbenchWarning` says so).  ``restart=True`` trains it for
        ``epochs`` more epochs from its current weights, whatever it has had.  The sample
        order of epoch ``e`` is a permutation drawn from ``seed + e``, so a resumed or
        extended run is identical to an uninterrupted one.  After every epoch the checkpoint
        (if given) is rewritten atomically.

        Two stop rules end training early; a layer they stop is finished (see
        :attr:`stopped`; ``restart=True`` trains it again):

        * ``stop_convergence``: a convolutional layer's convergence (see
          :meth:`ConvLayer.convergence`) fell below this value.
        * ``stop_silent``: after an epoch of a decision layer, some training sample makes
          no neuron fire (metric ``silent_after_epoch``, the layer as tested: no dropout).
          Silence appears once punishment has weakened neurons until they no longer reach
          threshold on every image, and test accuracy falls from there on.  SpykeTorch's
          Mozafari 2018 reproduction stops on silence *during* the epoch (``train_silent``),
          which a dropout draw that leaves a class nearly without neurons also triggers.
          With ``silent_margin`` > 1, silence is judged at ``silent_margin`` times the
          firing threshold: training stops once some training sample comes within that
          factor of going silent.  Test samples, which match the learned features less
          well than the samples they were learned from, fall silent earlier than training
          samples, so a margin stops before test accuracy turns down.

        Returns
        -------
        TrainingLog
            One row per epoch: layer, epoch, seconds, and a convolution's convergence or a
            decision layer's training accuracy and share of silent samples (during the
            epoch, with dropout; and after it, without, at ``silent_margin`` times the
            threshold, where ``stop_silent`` asks for it).
        """
        layer = self.layers[index]
        if not layer.trainable:
            raise ValueError(f"layer {index} ({type(layer).__name__}) has no learnable weights")
        if isinstance(layer, DecisionLayer) and labels is None:
            raise ValueError("training the decision layer needs labels")
        silent_margin = check_float(silent_margin, "silent_margin", min_value=1.0)
        if silent_margin != 1.0:
            if not stop_silent:
                raise ValueError("silent_margin only applies with stop_silent=True")
            if not (isinstance(layer, DecisionLayer) and layer.rule == "first_spike"):
                raise ValueError("silent_margin scales a firing threshold: it needs a decision layer with "
                                 "rule='first_spike'")
        log = log or TrainingLog()
        to_train = self.epochs_to_train(index, epochs)
        if restart:
            self.progress_state = {"layer": index, "epoch": 0}
            self.epochs_trained[index] = 0
            self.stopped.pop(index, None)
        elif to_train == 0:
            if epochs > 0:
                warnings.warn(f"layer {index} not trained: {self.why_frozen(index, epochs)}; nothing done -- "
                              "pass restart=True to train it again", WorkbenchWarning, stacklevel=2)
            return log
        start_epoch = self.epochs_trained[index]
        self.progress_state = {"layer": index, "epoch": start_epoch}
        inputs = cached_input if cached_input is not None else self.layer_input(images, index, progress=progress)
        n = inputs.shape[0]
        for epoch in range(start_epoch, epochs):
            t0 = time.perf_counter()
            order = np.random.default_rng(seed + epoch).permutation(n)
            hits = silent = 0
            if isinstance(layer, DecisionLayer):
                layer.new_epoch(epoch)
            # A decision layer learns online (sample by sample) whatever the batch, so larger
            # batches only save per-call overhead.
            size = max(batch_size, _ONLINE_BATCH) if isinstance(layer, DecisionLayer) else batch_size
            for idx in _progress(_as_batches(n, size, order), -(-n // size), f"layer {index} epoch {epoch + 1}/{epochs}", progress):
                batch = np.ascontiguousarray(inputs[idx], dtype=np.int32)
                if isinstance(layer, DecisionLayer):
                    layer.learn(batch, self.T, labels[idx])
                    hits += int((layer.last_prediction == labels[idx]).sum())
                    silent += int((layer.last_prediction < 0).sum())
                else:
                    layer.learn(batch, self.T)
            row: dict[str, Any] = {"layer": index, "epoch": epoch + 1, "seconds": time.perf_counter() - t0}
            if isinstance(layer, DecisionLayer):
                layer.new_epoch(None)  # no dropout outside training
                if not layer.adapt_every:  # otherwise the layer adapts per block of samples
                    layer.hit_rate = hits / n
                row["train_accuracy"] = hits / n
                row["train_silent"] = silent / n
                if stop_silent:
                    row["silent_after_epoch"] = self._silent_share(layer, inputs, batch_size, silent_margin)
            elif isinstance(layer, ConvLayer):
                row["convergence"] = layer.convergence()
            log.append(**row)
            self.progress_state = {"layer": index, "epoch": epoch + 1}
            self.epochs_trained[index] = epoch + 1
            self.epoch_seconds += row["seconds"]
            if stop_convergence is not None and row.get("convergence", 1.0) < stop_convergence:
                self.stopped[index] = f"convergence {row['convergence']:.4g} < {stop_convergence:g}"
            elif row.get("silent_after_epoch", 0.0) > 0:
                at = f" at {silent_margin:g} x the threshold" if silent_margin != 1.0 else ""
                self.stopped[index] = f"{row['silent_after_epoch']:.2%} of the training samples silent{at}"
            if checkpoint is not None:
                self.save(checkpoint)
            if callback is not None:
                callback(epoch, row)
            if index in self.stopped:
                break
        self.progress_state = {"layer": index + 1, "epoch": 0}
        if checkpoint is not None:
            self.save(checkpoint)
        return log

    def _silent_share(self, layer: DecisionLayer, inputs: np.ndarray, batch_size: int, margin: float = 1.0) -> float:
        """Share of the samples on which no neuron of ``layer`` fires (no dropout), judged
        at ``margin`` times its threshold."""
        if margin != 1.0:
            layer = copy.copy(layer)  # shares the weights; only the threshold differs
            layer.threshold = layer.threshold * margin
        silent = 0
        for idx in _as_batches(inputs.shape[0], max(batch_size, 256)):
            silent += int(np.count_nonzero(layer.predict(np.ascontiguousarray(inputs[idx], dtype=np.int32), self.T) < 0))
        return silent / inputs.shape[0]

    # ------------------------------------------------------------ persistence
    def spec(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "name": self.name,
            "T": self.T,
            "frontend": self.frontend.spec(),
            "layers": [layer.spec() for layer in self.layers],
            "meta": self.meta,
            "progress": self.progress_state,
            "epochs_trained": self.epochs_trained,
            "epoch_seconds": self.epoch_seconds,
            "stopped": {str(i): why for i, why in self.stopped.items()},
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network (architecture, weights, training progress) to one ``.npz`` file.

        The file is written to a temporary name in the same folder and renamed, so an
        interrupted save never leaves a truncated checkpoint.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"spec": np.frombuffer(json.dumps(self.spec()).encode(), dtype=np.uint8)}
        for i, layer in enumerate(self.layers):
            for key, value in layer.state().items():
                arrays[f"layer{i}/{key}"] = np.asarray(value)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Rebuild a network saved by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                spec = json.loads(bytes(data["spec"]).decode())
                arrays = {k: data[k] for k in data.files if k != "spec"}
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a readable workbench checkpoint ({exc})") from exc
        if spec.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path}: unsupported checkpoint format {spec.get('format')!r}")
        frontend = Frontend(**spec["frontend"])
        layers = [layer_from_spec(s) for s in spec["layers"]]
        for i, layer in enumerate(layers):
            prefix = f"layer{i}/"
            layer.load_state({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        net = cls(frontend, layers, spec["T"], spec["name"], spec.get("meta"))
        net.progress_state = dict(spec.get("progress", {"layer": 0, "epoch": 0}))
        if "epochs_trained" in spec:
            net.epochs_trained = list(spec["epochs_trained"])
        else:  # older checkpoint: only the progress point is known
            at, epoch = net.progress_state["layer"], net.progress_state["epoch"]
            net.epochs_trained = [None if i < at and layer.trainable else (epoch if i == at else 0)
                                  for i, layer in enumerate(layers)]
        net.epoch_seconds = float(spec.get("epoch_seconds", 0.0))
        net.stopped = {int(i): why for i, why in spec.get("stopped", {}).items()}
        return net
