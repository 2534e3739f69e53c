"""Building blocks of event-driven spiking networks (rank-order coded, first-spike times).

Every block maps a first-spike time map ``(B, C, H, W)`` int32 (``T`` = never fired) to the
next one; the trainable block also learns from its input.  All work goes through the
event-driven ops of :mod:`workbench.snn.sparse`, so no ``(B, T, C, H, W)`` float potentials
are ever built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import snn
from .._validation import check_choice, check_float, check_int, check_pair

__all__ = ["Layer", "ConvLayer", "PoolLayer", "GlobalPool", "DecisionLayer"]


class Layer:
    """Base class: a block of the network; subclasses implement :meth:`forward`."""

    trainable = False

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to checkpoint (weights)."""
        return {}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state` returned."""

    def spec(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments (to rebuild the layer from a checkpoint)."""
        raise NotImplementedError

    def output_channels(self, in_channels: int) -> int:
        return in_channels


@dataclass
class ConvLayer(Layer):
    """Convolution + integrate-and-fire + pointwise inhibition, trained by STDP with k-WTA.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    threshold : float
        Firing threshold; the neuron fires at the first step whose potential exceeds it.
    padding, stride : int or (int, int)
    wta_count, wta_radius : int
        k and the exclusion radius of the k-WTA that selects the neurons that learn.
    a_plus, a_minus : float
        STDP rates (stabilised rule, weights in [0, 1]).
    lr_factor, lr_every, lr_cap : float, int, float
        Rates multiplied by ``lr_factor`` every ``lr_every`` training samples up to
        ``a_plus = lr_cap`` (``lr_factor = 1`` keeps them constant).
    inhibit : bool
        Apply pointwise (feature) inhibition to the output.
    forward_inhibit : bool
        Also apply it in :meth:`forward`, i.e. to the input of the layers above (when
        ``inhibit``).  SpykeTorch's Mozafari et al. (2019) reproduction inhibits only while
        the layer itself learns (``False``).
    weight_mean, weight_std : float
        Initial weights ~ N(mean, std).
    seed : int
    """

    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, int]
    threshold: float
    padding: int | tuple[int, int] = 0
    stride: int | tuple[int, int] = 1
    wta_count: int = 5
    wta_radius: int = 3
    a_plus: float = 0.004
    a_minus: float = -0.003
    lr_factor: float = 1.0
    lr_every: int = 500
    lr_cap: float = 0.15
    inhibit: bool = True
    weight_mean: float = 0.8
    weight_std: float = 0.05
    seed: int = 0
    forward_inhibit: bool = True
    conv: Any = field(init=False, repr=False)
    schedule: Any = field(init=False, repr=False)

    trainable = True

    def __post_init__(self) -> None:
        check_float(self.threshold, "threshold")
        check_int(self.wta_count, "wta_count", min_value=1)
        check_int(self.wta_radius, "wta_radius", min_value=0)
        self.conv = snn.Conv(
            self.in_channels, self.out_channels, self.kernel_size, stride=self.stride, padding=self.padding,
            mean=self.weight_mean, std=self.weight_std, seed=self.seed,
        )
        self.reset_schedule()

    def reset_schedule(self) -> None:
        config = snn.STDPConfig(self.a_plus, self.a_minus)
        self.schedule = snn.LearningRateSchedule(config, factor=self.lr_factor, every=self.lr_every, a_plus_cap=max(self.lr_cap, self.a_plus))

    @property
    def weight(self) -> np.ndarray:
        return self.conv.weight

    def fire(self, tmap: np.ndarray, T: int, inhibit: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Output time map and spike potentials (after inhibition when enabled)."""
        out, pot = snn.sparse.conv(tmap, self.conv.weight, self.threshold, T, self.conv.stride, self.conv.padding)
        if self.inhibit if inhibit is None else inhibit:
            out, pot = snn.sparse.inhibit(out, pot, T)
        return out, pot

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        return self.fire(tmap, T, self.inhibit and self.forward_inhibit)[0]

    def learn(self, tmap: np.ndarray, T: int, labels: np.ndarray | None = None) -> np.ndarray:
        """One STDP step on a batch; returns the output time map."""
        out, pot = self.fire(tmap, T)
        winners = snn.sparse.conv_wta(out, pot, self.wta_radius, self.wta_count, T)
        if len(winners):
            snn.sparse.stdp(self.conv, tmap, winners, self.schedule.config)
        self.schedule.step(tmap.shape[0])
        return out

    def convergence(self) -> float:
        """Kheradpisheh et al. (2018)'s C = mean w (1 - w); learning has converged near 0."""
        w = self.conv.weight
        return float(np.mean(w * (1.0 - w)))

    def final_potentials(self, tmap: np.ndarray, T: int) -> np.ndarray:
        """Potentials after all input spikes arrived, (B, F, OH, OW) (for threshold-free read-outs)."""
        fired = (tmap < T).astype(np.uint8)[:, None]  # a 1-step wave: every spike has arrived
        return snn.conv(fired, self.conv.weight, self.conv.stride, self.conv.padding)[:, 0]

    def state(self) -> dict[str, np.ndarray]:
        return {"weight": self.conv.weight, "lr_samples": np.array(self.schedule.samples)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.conv.weight = np.ascontiguousarray(arrays["weight"], dtype=self.conv.weight.dtype)
        self.reset_schedule()
        if "lr_samples" in arrays and int(arrays["lr_samples"]) > 0:
            self.schedule.step(int(arrays["lr_samples"]))

    def spec(self) -> dict[str, Any]:
        keys = [
            "in_channels", "out_channels", "kernel_size", "threshold", "padding", "stride", "wta_count",
            "wta_radius", "a_plus", "a_minus", "lr_factor", "lr_every", "lr_cap", "inhibit", "weight_mean",
            "weight_std", "seed", "forward_inhibit",
        ]
        return {"type": "ConvLayer", **{k: getattr(self, k) for k in keys}}

    def output_channels(self, in_channels: int) -> int:
        return self.out_channels


@dataclass
class PoolLayer(Layer):
    """Max pooling of spikes: the earliest spike of each window."""

    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None
    padding: int | tuple[int, int] = 0

    def __post_init__(self) -> None:
        check_pair(self.kernel_size, "kernel_size", min_value=1)

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        return snn.sparse.pool(tmap, self.kernel_size, self.stride, self.padding, T)

    def spec(self) -> dict[str, Any]:
        return {"type": "PoolLayer", "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}


@dataclass
class GlobalPool(Layer):
    """Earliest spike of each feature over all positions: (B, C, H, W) -> (B, C, 1, 1)."""

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        return tmap.min(axis=(2, 3), keepdims=True).astype(np.int32)

    def spec(self) -> dict[str, Any]:
        return {"type": "GlobalPool"}


@dataclass
class DecisionLayer(Layer):
    """R-STDP decision layer (Mozafari et al. 2018, 2019).

    ``out_channels`` neurons, each assigned to class ``neuron // (out_channels // n_classes)``.
    The decision is the neuron (over all features and positions) that fires first: the one
    whose potential exceeds ``threshold`` earliest; ties are broken by the larger potential
    at that first spike (SpykeTorch's ``get_k_winners`` rule, so the decision rests on the
    same early input spikes that R-STDP then potentiates), then by the lower flat index.  The
    winner learns by R-STDP, rewarded when its class is the label and punished otherwise.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    n_classes : int
    a_reward_plus, a_reward_minus, a_punish_plus, a_punish_minus : float
        R-STDP rates (Mozafari 2019: 0.004, -0.003, -0.004, 0.0005).
    adaptive : bool
        Scale the reward rates by the previous epoch's miss rate and the punishment rates by
        its hit rate (Mozafari et al. 2018, Eq. 6).
    weight_mean, weight_std : float
        Initial weights ~ N(mean, std).
    seed : int
    padding : int or (int, int)
        Zero (never-fired) padding of the input (Mozafari 2019: 2, as SpykeTorch's
        reproduction pads the pooled map by 2 before the 5x5 decision convolution).
    stabilize : bool
        Soft-bound (``w (1 - w)``) R-STDP updates; SpykeTorch's reproduction of Mozafari
        et al. (2019) uses plain additive updates (``False``).
    lower, upper : float
        Weight bounds of R-STDP (Mozafari 2019 reproduction: 0.2 and 0.8).
    threshold : float
        Firing threshold of the decision neurons (0: fire on any input; Mozafari 2018's
        Caltech reproduction: 42).
    dropout : float
        Probability that a neuron is barred from winning during a training epoch (Mozafari
        et al. 2018; redrawn every epoch from ``seed`` and the epoch number).
    adaptive_min : float
        Floor of the adaptive scale: rates are scaled by ``adaptive_min + (1 - adaptive_min)
        * rate`` (SpykeTorch's Mozafari 2018 reproduction: 0.2; 0 gives Eq. 6 as is).
    rule : {"first_spike", "max_potential"}
        ``"first_spike"`` (Mozafari et al. 2018): the earliest neuron to cross ``threshold``
        decides.  ``"max_potential"`` (Mozafari et al. 2019): decision neurons have no
        threshold and integrate every input spike; the neuron with the largest final
        potential decides, at the last step ``T - 1``, so R-STDP potentiates every input
        that fired and depresses the silent ones (``threshold`` is then unused).
    adapt_every : int
        Recompute the adaptive scale from the hit rate of every block of this many training
        samples (SpykeTorch's Mozafari 2019 reproduction: 1000); 0 uses the previous epoch's
        hit rate (Mozafari et al. 2018).

    Notes
    -----
    Learning is online, as in both papers: within a batch the samples are decided and
    learned one after another, each decision seeing the weights its predecessors left.
    """

    in_channels: int
    out_channels: int
    kernel_size: int | tuple[int, int]
    n_classes: int
    a_reward_plus: float = 0.004
    a_reward_minus: float = -0.003
    a_punish_plus: float = -0.004
    a_punish_minus: float = 0.0005
    adaptive: bool = True
    weight_mean: float = 0.8
    weight_std: float = 0.05
    seed: int = 0
    padding: int | tuple[int, int] = 0
    stabilize: bool = True
    lower: float = 0.0
    upper: float = 1.0
    threshold: float = 0.0
    dropout: float = 0.0
    adaptive_min: float = 0.0
    rule: str = "first_spike"
    adapt_every: int = 0
    conv: Any = field(init=False, repr=False)
    _block: Any = field(init=False, repr=False, default=None)
    hit_rate: float = field(init=False, default=0.5)
    _dropped: Any = field(init=False, repr=False, default=None)
    last_prediction: Any = field(init=False, repr=False, default=None)

    trainable = True

    def __post_init__(self) -> None:
        check_int(self.n_classes, "n_classes", min_value=2)
        if self.out_channels % self.n_classes:
            raise ValueError(f"out_channels ({self.out_channels}) must be a multiple of n_classes ({self.n_classes})")
        check_float(self.threshold, "threshold")
        check_float(self.dropout, "dropout", min_value=0.0, max_value=1.0)
        check_float(self.adaptive_min, "adaptive_min", min_value=0.0, max_value=1.0)
        check_choice(self.rule, "rule", ("first_spike", "max_potential"))
        check_int(self.adapt_every, "adapt_every", min_value=0)
        self._block = [0, 0]  # hits and samples of the current adaptation block
        if not isinstance(self.stabilize, (bool, np.bool_)):
            raise TypeError(f"stabilize must be a bool, got {type(self.stabilize).__name__}")
        lower, upper = check_float(self.lower, "lower"), check_float(self.upper, "upper")
        if not lower < upper:
            raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
        self.conv = snn.Conv(self.in_channels, self.out_channels, self.kernel_size, padding=self.padding,
                             mean=self.weight_mean, std=self.weight_std, seed=self.seed)
        # Before any epoch the hit rate is taken to be chance, as SpykeTorch's reproductions do.
        self.hit_rate = 1.0 / self.n_classes
        # Initial weights must respect the R-STDP bounds (N(0.8, 0.05) exceeds an upper bound of 0.8).
        np.clip(self.conv.weight, lower, upper, out=self.conv.weight)

    def _configs(self) -> tuple[snn.STDPConfig, snn.STDPConfig]:
        m = float(self.adaptive_min)
        scale_r = (m + (1.0 - m) * (1.0 - self.hit_rate)) if self.adaptive else 1.0
        scale_p = (m + (1.0 - m) * self.hit_rate) if self.adaptive else 1.0
        kw = {"stabilize": bool(self.stabilize), "lower": float(self.lower), "upper": float(self.upper)}
        return (snn.STDPConfig(self.a_reward_plus * scale_r, self.a_reward_minus * scale_r, **kw),
                snn.STDPConfig(self.a_punish_plus * scale_p, self.a_punish_minus * scale_p, **kw))

    @property
    def weight(self) -> np.ndarray:
        return self.conv.weight

    def neuron_class(self) -> np.ndarray:
        return np.arange(self.out_channels) // (self.out_channels // self.n_classes)

    def new_epoch(self, epoch: int | None) -> None:
        """Draw the neurons dropped out during training epoch ``epoch``.

        ``None`` (or ``dropout == 0``) drops none, as at test time.
        """
        if self.dropout > 0 and epoch is not None:
            rng = np.random.default_rng([int(self.seed), int(epoch)])
            self._dropped = rng.random(self.out_channels) < self.dropout
        else:
            self._dropped = None

    def _decide(self, tmap: np.ndarray, T: int, dropped: np.ndarray | None = None) -> np.ndarray:
        """Winners (n, 5) ``(batch, feature, time, y, x)``: at most one per sample."""
        if self.rule == "max_potential":
            return self._decide_max_potential(tmap, T, dropped)
        weight = self.conv.weight
        if T > 255 or weight.min() < 0:
            return self._decide_dense(tmap, T, dropped)
        # With non-negative weights potentials never fall, so a neuron spikes at every step
        # from its first spike on: SpykeTorch's rule (most steps spiking, then the potential
        # at the first spike) is the earliest first spike, then the larger spike potential.
        first, spike_pot = snn.sparse.conv(tmap, weight, float(self.threshold), T, 1, self.conv.padding)
        if dropped is not None:
            first = first.copy()
            first[:, dropped] = T
        B, F, OH, OW = first.shape
        flat = first.reshape(B, -1)
        tstar = flat.min(axis=1)
        total = np.where(flat == tstar[:, None], spike_pot.reshape(B, -1).astype(np.float64), -np.inf)
        best = np.argmax(total, axis=1)  # first maximum: the lowest flat index wins a full tie
        fired = tstar < T
        f, y, x = np.unravel_index(best, (F, OH, OW))
        winners = np.stack([np.arange(B), f, tstar, y, x], axis=1)[fired]
        return np.ascontiguousarray(winners, dtype=np.int32)

    def _final_potentials(self, tmap: np.ndarray, T: int, chunk: int = 64):
        """Yield the final potentials ``(b, F, OH, OW)`` of each chunk of samples (im2col of
        the fired inputs and one GEMM; chunks bound the im2col memory)."""
        py, px = self.conv.padding  # snn.Conv keeps a (y, x) pair
        kh, kw = self.conv.weight.shape[2:]
        flat_w = self.conv.weight.reshape(self.out_channels, -1)
        for start in range(0, tmap.shape[0], chunk):
            fired = (tmap[start : start + chunk] < T).astype(self.conv.weight.dtype)
            fired = np.pad(fired, ((0, 0), (0, 0), (py, py), (px, px)))
            win = np.lib.stride_tricks.sliding_window_view(fired, (kh, kw), axis=(2, 3))  # (b, C, OH, OW, kh, kw)
            B, C, OH, OW = win.shape[:4]
            cols = np.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3)).reshape(C * kh * kw, B * OH * OW)
            # One (F, K) x (K, b*P) product: a stacked matmul would not reach BLAS's speed.
            yield (flat_w @ cols).reshape(-1, B, OH, OW).transpose(1, 0, 2, 3)

    def _decide_max_potential(self, tmap: np.ndarray, T: int, dropped: np.ndarray | None = None) -> np.ndarray:
        """:meth:`_decide` for ``rule="max_potential"``: largest final potential, at step T - 1."""
        active = None if dropped is None else ~dropped
        won = snn.max_potential_decide(tmap, self.conv.weight, T, self.conv.padding, active)
        rows = np.flatnonzero(won[:, 0] >= 0)
        winners = np.column_stack([rows, won[rows, 0], np.full(len(rows), T - 1), won[rows, 1], won[rows, 2]])
        return np.ascontiguousarray(winners, dtype=np.int32).reshape(-1, 5)

    def _learn_max_potential(self, tmap: np.ndarray, T: int, labels: np.ndarray) -> None:
        """Online R-STDP with the max-potential rule (:func:`workbench.snn.max_potential_rstdp`).

        The batch is cut where an adaptation block ends, so every sample learns with the
        rates its block's predecessors set, exactly as one sample at a time.
        """
        active = None if self._dropped is None else ~self._dropped
        classes = self.neuron_class()
        start = 0
        while start < tmap.shape[0]:
            stop = tmap.shape[0]
            if self.adapt_every:
                stop = min(stop, start + self.adapt_every - self._block[1])
            won = snn.max_potential_rstdp(tmap[start:stop], self.conv.weight, T, labels[start:stop], classes,
                                          *self._configs(), padding=self.conv.padding, active=active)
            pred = np.where(won[:, 0] >= 0, classes[np.maximum(won[:, 0], 0)], -1)
            self.last_prediction[start:stop] = pred
            self._count(int(np.count_nonzero(pred == labels[start:stop])), stop - start)
            start = stop

    def _rstdp_one(self, sample: np.ndarray, winner: np.ndarray, rewarded: bool) -> None:
        """R-STDP of one winner, on a view of its feature's weights (validates 1/F of them)."""
        f = int(winner[0, 1])
        one = _FeatureView(self.conv.weight[f : f + 1], self.conv.padding)
        winner = winner.copy()
        winner[0, 1] = 0
        snn.sparse.rstdp(one, sample, winner, np.array([rewarded]), *self._configs())

    def _record(self, b: int, prediction: int, label: int) -> None:
        self.last_prediction[b] = prediction
        self._count(int(prediction == label), 1)

    def _count(self, hits: int, samples: int) -> None:
        """Add to the adaptation block; a complete block sets the hit rate (never overshoots:
        callers cut batches at block ends)."""
        if self.adapt_every:
            self._block[0] += hits
            self._block[1] += samples
            if self._block[1] == self.adapt_every:
                self.hit_rate = self._block[0] / self.adapt_every
                self._block = [0, 0]

    def _decide_dense(self, tmap: np.ndarray, T: int, dropped: np.ndarray | None = None) -> np.ndarray:
        """:meth:`_decide` from the dense per-step potentials (any weight sign)."""
        wave = snn.scatter(tmap, T)
        # (B, T, F, OH, OW) potentials: the decision layer is small (a few positions), so
        # the dense per-step potentials cost little and give SpykeTorch's tie rule exactly.
        pot = snn.conv(wave, self.conv.weight, 1, self.conv.padding)
        spikes = pot > self.threshold
        count = spikes.sum(axis=1)  # steps above threshold (= from the first spike on, if weights >= 0)
        # SpykeTorch reads the potential at step T - count (the first spike for weights >= 0).
        at = np.minimum(T - count, T - 1)[:, None]
        total = np.take_along_axis(pot, at, axis=1)[:, 0].astype(np.float64)
        B, F, OH, OW = count.shape
        if dropped is not None:
            count[:, dropped] = 0
        # Earliest spike = most steps spent above threshold; then the larger potential there.
        flat_count = count.reshape(B, -1)
        flat_total = np.where(flat_count > 0, total.reshape(B, -1), -np.inf)
        best = np.empty(B, dtype=np.int64)
        for b in range(B):
            top = flat_count[b].max()
            best[b] = np.flatnonzero(flat_count[b] == top)[np.argmax(flat_total[b][flat_count[b] == top])]
        fired = flat_count[np.arange(B), best] > 0
        f, y, x = np.unravel_index(best, (F, OH, OW))
        t = T - flat_count[np.arange(B), best]
        winners = np.stack([np.arange(B), f, t, y, x], axis=1)[fired]
        return np.ascontiguousarray(winners, dtype=np.int32)

    def _classes(self, winners: np.ndarray, B: int) -> np.ndarray:
        pred = np.full(B, -1, dtype=np.int64)
        pred[winners[:, 0]] = self.neuron_class()[winners[:, 1]]
        return pred

    def predict(self, tmap: np.ndarray, T: int) -> np.ndarray:
        """Predicted class per sample; -1 where no neuron fired."""
        return self._classes(self._decide(tmap, T), tmap.shape[0])

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        if self.rule == "max_potential":
            # Thresholdless neurons fire once, at the last step, if anything reached them.
            return np.concatenate([np.where(pot > 0, T - 1, T).astype(np.int32) for pot in self._final_potentials(tmap, T)])
        out, _ = snn.sparse.conv(tmap, self.conv.weight, float(self.threshold), T, 1, self.conv.padding)
        return out

    def learn(self, tmap: np.ndarray, T: int, labels: np.ndarray | None = None) -> np.ndarray:
        """One online R-STDP pass over a batch; returns the training-time decisions.

        Returns
        -------
        ndarray of int64, shape (B,)
            The class each sample was assigned while learning (with dropout), -1 where no
            neuron fired; also kept in :attr:`last_prediction` for the epoch's hit rate.
        """
        if labels is None:
            raise ValueError("the decision layer learns from labels (R-STDP); pass labels")
        B = tmap.shape[0]
        self.last_prediction = np.full(B, -1, dtype=np.int64)
        if self.rule == "max_potential":
            self._learn_max_potential(tmap, T, labels)
            return self.last_prediction
        classes = self.neuron_class()
        for b in range(B):  # online: each decision sees the weights its predecessors left
            sample = tmap[b : b + 1]
            winners = self._decide(sample, T, self._dropped)
            prediction = classes[winners[0, 1]] if len(winners) else -1
            if len(winners):
                self._rstdp_one(sample, winners, prediction == labels[b])
            self._record(b, prediction, labels[b])
        return self.last_prediction

    def state(self) -> dict[str, np.ndarray]:
        # The open adaptation block too, so a run resumed between epochs adapts as one that was not.
        return {"weight": self.conv.weight, "hit_rate": np.array(self.hit_rate), "block": np.array(self._block)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.conv.weight = np.ascontiguousarray(arrays["weight"], dtype=self.conv.weight.dtype)
        self.hit_rate = float(arrays.get("hit_rate", 0.5))
        self._block = [int(v) for v in arrays.get("block", (0, 0))]

    def spec(self) -> dict[str, Any]:
        keys = ["in_channels", "out_channels", "kernel_size", "n_classes", "a_reward_plus", "a_reward_minus",
                "a_punish_plus", "a_punish_minus", "adaptive", "weight_mean", "weight_std", "seed",
                "padding", "stabilize", "lower", "upper", "threshold", "dropout", "adaptive_min", "rule",
                "adapt_every"]
        return {"type": "DecisionLayer", **{k: getattr(self, k) for k in keys}}

    def output_channels(self, in_channels: int) -> int:
        return self.out_channels


@dataclass
class _FeatureView:
    """What :func:`workbench.snn.sparse.rstdp` needs of a layer: weights (a view) and padding."""

    weight: np.ndarray
    padding: Any
    stride: int = 1


LAYER_TYPES = {cls.__name__: cls for cls in (ConvLayer, PoolLayer, GlobalPool, DecisionLayer)}


def layer_from_spec(spec: dict[str, Any]) -> Layer:
    spec = dict(spec)
    kind = spec.pop("type")
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r} in checkpoint; known: {', '.join(LAYER_TYPES)}")
    # JSON turns tuples into lists.
    spec = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
    return LAYER_TYPES[kind](**spec)
