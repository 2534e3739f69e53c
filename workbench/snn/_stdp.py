"""Spike-timing-dependent plasticity (STDP) and reward-modulated STDP (R-STDP).

The rule is the simplified, winner-only STDP of Kheradpisheh et al. (2018) and Mozafari
et al. (2018, 2019), as in Spyker 0.1.0: for a winner neuron that fired at step ``t``
and every synapse of its kernel,

    a  = a_plus  if the presynaptic first-spike time <= t  (never fired counts as T)
         a_minus otherwise
    dw = a * (w - lower) * (upper - w)      (stabilised; dw = a without the stabiliser)
    w  = clip(w + dw, lower, upper)

References
----------
S. R. Kheradpisheh, M. Ganjtabesh, S. J. Thorpe, T. Masquelier (2018). STDP-based
spiking deep convolutional neural networks for object recognition. Neural Networks 99,
56-67.
M. Mozafari, S. R. Kheradpisheh, T. Masquelier, A. Nowzari-Dalini, M. Ganjtabesh
(2018). First-spike-based visual categorization using reward-modulated STDP. IEEE TNNLS
29(12), 6178-6190.
M. Mozafari, M. Ganjtabesh, A. Nowzari-Dalini, S. J. Thorpe, T. Masquelier (2019).
Bio-inspired digit recognition using reward-modulated spike-timing-dependent plasticity
in deep convolutional networks. Pattern Recognition 94, 87-95.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._threads import kernel_threads
from .._validation import check_float, check_int
from .._kernels import stdp as _k
from ._pool import _pad_array
from ._coding import gather
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = ["STDPConfig", "stdp", "rstdp", "LearningRateSchedule"]

# Padding value of the presynaptic time map inside STDP: larger than any winner time, so
# a padded input always counts as "never fired" (a_minus), whatever T is.
_NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class STDPConfig:
    """STDP learning rates and weight bounds (Spyker's ``STDPConfig``).

    Parameters
    ----------
    a_plus : float
        Rate applied when the presynaptic input fired at or before the winner
        (Spyker's ``positive``; e.g. 0.004).
    a_minus : float
        Rate applied otherwise (Spyker's ``negative``; give it its sign, e.g. -0.003).
    stabilize : bool
        Multiply by ``(w - lower) * (upper - w)`` (soft bounds).
    lower, upper : float
        Weight bounds, ``lower < upper``; weights are clipped to them after each update.
    """

    a_plus: float
    a_minus: float
    stabilize: bool = True
    lower: float = 0.0
    upper: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "a_plus", check_float(self.a_plus, "a_plus"))
        object.__setattr__(self, "a_minus", check_float(self.a_minus, "a_minus"))
        object.__setattr__(self, "stabilize", _v._check_bool(self.stabilize, "stabilize"))
        lower = check_float(self.lower, "lower")
        upper = check_float(self.upper, "upper")
        if not lower < upper:
            raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)


def _check_config(config: Any, name: str) -> STDPConfig:
    return _v.validate_config(config, name)


def _prepare(layer: Any, pre: np.ndarray, winners: np.ndarray):
    """Validate the layer, presynaptic input and winners; return kernel-ready arrays."""
    # shapes, dtypes, ranges and winner coordinates: the same checks as workbench.cuda.stdp
    v = _v.validate_stdp(layer, pre, winners)
    weight, stride, F = v.weight, v.stride, v.n_features
    winners = np.ascontiguousarray(v.winners)
    # The presynaptic input becomes a time map.
    tmap = gather(v.pre) if v.is_wave else np.ascontiguousarray(v.pre)
    if weight.ndim == 4:
        tmap = _pad_array(tmap, v.pads, _NEVER)
    else:
        tmap = np.ascontiguousarray(tmap.reshape(tmap.shape[0], weight.shape[1], 1, 1))
    if weight.flags.c_contiguous:
        kernel4 = weight.reshape(weight.shape[0], weight.shape[1], *weight.shape[2:], *(1, 1)[: 4 - weight.ndim])
    else:
        kernel4 = None  # updated in a contiguous copy, then written back
    return weight, kernel4, tmap, winners, stride, F


def _apply(layer, pre, winners, configs: list[STDPConfig], which: np.ndarray | None) -> None:
    weight, kernel4, tmap, winners, stride, F = _prepare(layer, pre, winners)
    n = winners.shape[0]
    if n == 0:
        return
    dtype = weight.dtype
    idx = np.zeros(n, dtype=np.intp) if which is None else which

    def per_winner(attr):
        return np.ascontiguousarray(np.array([getattr(c, attr) for c in configs], dtype=dtype)[idx])

    a_plus, a_minus, lower, upper = (per_winner(a) for a in ("a_plus", "a_minus", "lower", "upper"))
    stabilize = np.array([c.stabilize for c in configs], dtype=np.uint8)[idx]
    # Winners grouped by feature, keeping their order inside a feature (stable sort).
    order = np.argsort(winners[:, 1], kind="stable").astype(np.intp)
    starts = np.searchsorted(winners[order, 1], np.arange(F + 1)).astype(np.intp)

    if kernel4 is None:
        work = np.ascontiguousarray(weight)
        work = work.reshape(work.shape[0], work.shape[1], *work.shape[2:], *(1, 1)[: 4 - work.ndim])
    else:
        work = kernel4
    _k.stdp_update(
        work, tmap, winners, order, starts, a_plus, a_minus, lower, upper,
        np.ascontiguousarray(stabilize), stride[0], stride[1],
        # Parallel over features: a few winners (online R-STDP) run faster on one thread.
        kernel_threads(n * int(np.prod(work.shape[1:])), int(np.count_nonzero(np.diff(starts)))),
    )
    if kernel4 is None:
        # Why: the contract is an in-place update of layer.weight, even for a strided view.
        weight[...] = work.reshape(weight.shape)


@gpu_dispatch()
def stdp(layer: Any, pre: np.ndarray, winners: np.ndarray, config: STDPConfig) -> None:
    """Update ``layer.weight`` in place with STDP for each winner, in winner order.

    Parameters
    ----------
    layer : Conv or FC (duck-typed)
        Conv: ``.weight`` (F, C, kh, kw), ``.stride`` and ``.padding`` (int or pair).
        FC: ``.weight`` (M, N).  float32 or float64; updated in place.
    pre : ndarray
        The layer's input.  Conv: uint8 wave (B, T, C, H, W) or int32 time map
        (B, C, H, W).  FC: uint8 wave (B, T, N) or int32 time map (B, N) (a (B, T, C, H, W)
        wave / (B, C, H, W) time map is flattened to N = C*H*W).
    winners : ndarray of int32, shape (n, 5)
        Rows ``(batch, feature, time, y, x)`` (FC: ``y = x = 0``, feature = output neuron).
        ``time`` must be < T for a wave input.
    config : STDPConfig

    Notes
    -----
    Each Conv winner ``(b, f, t, y, x)`` updates kernel ``f`` from the presynaptic patch
    of ``pre[b]`` (padded with ``layer.padding``, never-fired) at
    ``(y*stride_y, x*stride_x)``.  Updates are applied sequentially in winner order, so a
    batch update is exactly the sequence of per-sample updates; several winners of the
    same feature (in one sample or several) compound, exactly as in Spyker 0.1.0 (checked:
    its ``Conv.stdp`` applies them one after another, not summed from the old weight).
    Features are processed in parallel, which is exact because their kernels are
    disjoint.

    Deliberate differences from Spyker 0.1.0:

    * The post-synaptic time is the winner's ``time`` field.  Spyker's ``Conv.stdp``
      ignores ``Winner.t`` and reads the first-spike time of its ``output`` argument at
      the winner's position; with winners from WTA on that output the two are the same.
    * Spyker's ``FC.stdp`` potentiates only inputs that fired at step 0, whatever the
      winner's time (checked empirically; it looks like a bug); here FC uses the same rule
      as Conv.  The two agree for winners with time 0.
    * For a time map ``pre`` no ``T`` is needed: a never-fired input (value ``T``) is later
      than any winner time ``< T`` and gets ``a_minus``.
    """
    config = _check_config(config, "config")
    _apply(layer, pre, winners, [config], None)


@gpu_dispatch()
def rstdp(
    layer: Any,
    pre: np.ndarray,
    winners: np.ndarray,
    reward: np.ndarray,
    reward_config: STDPConfig,
    punish_config: STDPConfig,
) -> None:
    """Reward-modulated STDP: each winner learns with the reward or the punish config.

    Parameters
    ----------
    layer, pre, winners
        As in :func:`stdp`.
    reward : ndarray of bool, shape (n,)
        One flag per winner row: True applies ``reward_config``, False ``punish_config``.
    reward_config, punish_config : STDPConfig
        Mozafari et al. (2018) use anti-STDP on punishment (``a_plus < 0``,
        ``a_minus > 0``); the configs simply hold the numbers.

    Notes
    -----
    Equivalent to Spyker's ``layer.stdpconfig = [reward, punish]`` with the config index
    in ``Winner.c``; the winners are applied sequentially in order, as in :func:`stdp`.
    """
    # the same checks as workbench.cuda.rstdp; _apply validates layer, pre and winners
    reward, reward_config, punish_config = _v.validate_reward(winners, reward, reward_config, punish_config)
    which = np.where(reward, 0, 1).astype(np.intp)
    _apply(layer, pre, winners, [reward_config, punish_config], which)


class LearningRateSchedule:
    """Adaptive STDP learning rate: ``a_plus`` multiplied by ``factor`` every ``every`` samples.

    Kheradpisheh et al. (2018) start at ``a_plus = 0.004``, ``a_minus = -0.003`` and
    double the rates every 500 training images until ``a_plus`` reaches 0.15, keeping
    ``a_minus / a_plus = -0.75`` (numbers as we recall them from the paper and from
    SpykeTorch's reimplementations of Kheradpisheh 2018 and Mozafari 2019, which use the
    same doubling-with-a-cap scheme).

    Parameters
    ----------
    config : STDPConfig
        Initial rates and bounds (``a_plus > 0``).
    factor : float
        Multiplier (>= 1) applied to ``a_plus`` at each step of the schedule.
    every : int
        Number of samples between multiplications (>= 1).
    a_plus_cap : float
        Maximum ``a_plus`` (> 0); the cap is applied after multiplication.
    ratio : float, optional
        ``a_minus / a_plus`` kept after every change; defaults to the initial config's ratio.

    Attributes
    ----------
    config : STDPConfig
        The current rates (a new object after each change).
    samples : int
        Samples seen so far.
    """

    def __init__(
        self,
        config: STDPConfig,
        factor: float = 2.0,
        every: int = 500,
        a_plus_cap: float = 0.15,
        ratio: float | None = None,
    ) -> None:
        self._config = _check_config(config, "config")
        if config.a_plus <= 0:
            raise ValueError(f"config.a_plus must be > 0 for a schedule, got {config.a_plus}")
        self.factor = check_float(factor, "factor", min_value=1.0)
        self.every = check_int(every, "every", min_value=1)
        self.a_plus_cap = check_float(a_plus_cap, "a_plus_cap", min_value=0.0, strict_min=True)
        self.ratio = config.a_minus / config.a_plus if ratio is None else check_float(ratio, "ratio")
        self.samples = 0

    @property
    def config(self) -> STDPConfig:
        return self._config

    def step(self, n_samples: int = 1) -> STDPConfig:
        """Advance by ``n_samples`` samples; multiply the rates once per ``every`` crossed.

        Returns
        -------
        STDPConfig
            The (possibly updated) current config.
        """
        n_samples = check_int(n_samples, "n_samples", min_value=0)
        before = self.samples // self.every
        self.samples += n_samples
        crossings = self.samples // self.every - before
        a_plus = self._config.a_plus
        for _ in range(crossings):
            if a_plus >= self.a_plus_cap:
                break
            a_plus = min(a_plus * self.factor, self.a_plus_cap)
        if a_plus != self._config.a_plus:
            c = self._config
            self._config = STDPConfig(a_plus, self.ratio * a_plus, c.stabilize, c.lower, c.upper)
        return self._config

    def to(self, device: str) -> "LearningRateSchedule":
        """Device moves are no-ops (the schedule holds only scalars); kept so that every
        stateful module of a network moves with the same call."""
        if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        return self

    def __repr__(self) -> str:
        c = self._config
        return (
            f"LearningRateSchedule(a_plus={c.a_plus:g}, a_minus={c.a_minus:g}, factor={self.factor:g}, "
            f"every={self.every}, a_plus_cap={self.a_plus_cap:g}, samples={self.samples})"
        )
