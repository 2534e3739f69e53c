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
from .._validation import check_float, check_int, check_pair

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

    def fire(self, tmap: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
        """Output time map and spike potentials (after inhibition when enabled)."""
        out, pot = snn.sparse.conv(tmap, self.conv.weight, self.threshold, T, self.conv.stride, self.conv.padding)
        if self.inhibit:
            out, pot = snn.sparse.inhibit(out, pot, T)
        return out, pot

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        return self.fire(tmap, T)[0]

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
            "weight_std", "seed",
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
    The decision is the neuron that fires first (threshold-free: the one whose potential
    becomes positive earliest, ties by the larger potential); the winner learns by R-STDP,
    rewarded when its class is the label and punished otherwise.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    n_classes : int
    a_reward_plus, a_reward_minus, a_punish_plus, a_punish_minus : float
        R-STDP rates (Mozafari 2019: 0.004, -0.003, -0.004, 0.0005).
    adaptive : bool
        Scale the reward rates by the previous epoch's miss rate and the punishment rates by
        its hit rate (Mozafari et al. 2018, Eq. 6).
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
    conv: Any = field(init=False, repr=False)
    hit_rate: float = field(init=False, default=0.5)

    trainable = True

    def __post_init__(self) -> None:
        check_int(self.n_classes, "n_classes", min_value=2)
        if self.out_channels % self.n_classes:
            raise ValueError(f"out_channels ({self.out_channels}) must be a multiple of n_classes ({self.n_classes})")
        self.conv = snn.Conv(self.in_channels, self.out_channels, self.kernel_size, mean=self.weight_mean,
                             std=self.weight_std, seed=self.seed)

    @property
    def weight(self) -> np.ndarray:
        return self.conv.weight

    def neuron_class(self) -> np.ndarray:
        return np.arange(self.out_channels) // (self.out_channels // self.n_classes)

    def _decide(self, tmap: np.ndarray, T: int) -> np.ndarray:
        out, pot = snn.sparse.conv(tmap, self.conv.weight, 0.0, T, 1, 0)
        winners = snn.sparse.conv_wta(out, pot, 0, 1, T)
        return winners

    def predict(self, tmap: np.ndarray, T: int) -> np.ndarray:
        """Predicted class per sample; -1 where no neuron fired."""
        winners = self._decide(tmap, T)
        pred = np.full(tmap.shape[0], -1, dtype=np.int64)
        pred[winners[:, 0]] = self.neuron_class()[winners[:, 1]]
        return pred

    def forward(self, tmap: np.ndarray, T: int) -> np.ndarray:
        out, _ = snn.sparse.conv(tmap, self.conv.weight, 0.0, T, 1, 0)
        return out

    def learn(self, tmap: np.ndarray, T: int, labels: np.ndarray | None = None) -> np.ndarray:
        if labels is None:
            raise ValueError("the decision layer learns from labels (R-STDP); pass labels")
        winners = self._decide(tmap, T)
        if len(winners):
            reward = self.neuron_class()[winners[:, 1]] == labels[winners[:, 0]]
            scale_r = (1.0 - self.hit_rate) if self.adaptive else 1.0
            scale_p = self.hit_rate if self.adaptive else 1.0
            snn.sparse.rstdp(
                self.conv, tmap, winners, reward,
                snn.STDPConfig(self.a_reward_plus * scale_r, self.a_reward_minus * scale_r),
                snn.STDPConfig(self.a_punish_plus * scale_p, self.a_punish_minus * scale_p),
            )
        return self.forward(tmap, T)

    def state(self) -> dict[str, np.ndarray]:
        return {"weight": self.conv.weight, "hit_rate": np.array(self.hit_rate)}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.conv.weight = np.ascontiguousarray(arrays["weight"], dtype=self.conv.weight.dtype)
        self.hit_rate = float(arrays.get("hit_rate", 0.5))

    def spec(self) -> dict[str, Any]:
        keys = ["in_channels", "out_channels", "kernel_size", "n_classes", "a_reward_plus", "a_reward_minus",
                "a_punish_plus", "a_punish_minus", "adaptive", "weight_mean", "weight_std", "seed"]
        return {"type": "DecisionLayer", **{k: getattr(self, k) for k in keys}}

    def output_channels(self, in_channels: int) -> int:
        return self.out_channels


LAYER_TYPES = {cls.__name__: cls for cls in (ConvLayer, PoolLayer, GlobalPool, DecisionLayer)}


def layer_from_spec(spec: dict[str, Any]) -> Layer:
    spec = dict(spec)
    kind = spec.pop("type")
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r} in checkpoint; known: {', '.join(LAYER_TYPES)}")
    # JSON turns tuples into lists.
    spec = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
    return LAYER_TYPES[kind](**spec)
