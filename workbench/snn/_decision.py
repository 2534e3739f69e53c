"""Max-potential decision layer: decisions and online R-STDP (Mozafari et al. 2019).

A decision neuron has no threshold: it integrates every input spike, and the neuron
(feature, position) with the largest **final** potential decides.  Only the final
potential matters, which is the sum of the weights of the inputs that fired at all, so
these ops work on first-spike time maps and never build per-step potentials.  Learning
is online, as in the paper: sample after sample, the winner is rewarded when its
feature's class is the label and punished otherwise, and R-STDP changes its kernel at
its position before the next sample is decided.  The winner fires at the last step, so
every input that fired is "before" it (``a_plus``) and every silent or padded input
"after" it (``a_minus``).

This is the rule of SpykeTorch's reproduction of the paper (``fire`` with no threshold
lets neurons fire only at the last step; the winner is the largest potential there).

Reference
---------
M. Mozafari, M. Ganjtabesh, A. Nowzari-Dalini, S. J. Thorpe, T. Masquelier (2019).
Bio-inspired digit recognition using reward-modulated spike-timing-dependent plasticity
in deep convolutional networks. Pattern Recognition 94, 87-95.
"""

from __future__ import annotations

import numpy as np

from .._kernels import decision as _k
from .._threads import kernel_threads
from . import _checks as _v
from ._dispatch import gpu_dispatch
from ._stdp import STDPConfig

__all__ = ["max_potential_decide", "max_potential_rstdp"]


def _transposed(weight: np.ndarray) -> np.ndarray:
    # (F, C, kh, kw) -> (C, kh, kw, F): one fired input adds one contiguous F-vector.
    return np.ascontiguousarray(weight.transpose(1, 2, 3, 0))


@gpu_dispatch()
def max_potential_decide(tmap: np.ndarray, weight: np.ndarray, T: int, padding=0,
                         active: np.ndarray | None = None) -> np.ndarray:
    """Winner of each sample: the (feature, position) with the largest final potential.

    Parameters
    ----------
    tmap : ndarray of int32, shape (B, C, H, W)
        First-spike times of the input, ``T`` = never fired.
    weight : ndarray of float32/float64, shape (F, C, kh, kw)
        Convolution kernels (stride 1).
    T : int
        Number of time steps.
    padding : int or (int, int)
        Zero (never-fired) padding of the input.
    active : ndarray of bool, shape (F,), optional
        Features allowed to win (dropout); all by default.

    Returns
    -------
    ndarray of int32, shape (B, 3)
        Rows ``(feature, y, x)``; ``feature == -1`` where no active neuron has a positive
        potential (nothing reached it).  Ties go to the first maximum in (feature, y, x)
        order.
    """
    tmap, weight, T, padding, active = _v.validate_max_potential(tmap, weight, T, padding, active)
    out = np.empty((tmap.shape[0], 3), dtype=np.int32)
    _k.decide(_transposed(weight), tmap, T, padding[0], padding[1], active, out,
              kernel_threads(tmap.size * weight.shape[0], tmap.shape[0]))
    return out


@gpu_dispatch()
def max_potential_rstdp(tmap: np.ndarray, weight: np.ndarray, T: int, labels: np.ndarray,
                        feature_class: np.ndarray, reward_config: STDPConfig, punish_config: STDPConfig,
                        padding=0, active: np.ndarray | None = None) -> np.ndarray:
    """Decide and learn online: :func:`max_potential_decide` then R-STDP, sample by sample.

    Parameters
    ----------
    tmap, T, padding, active
        As in :func:`max_potential_decide`.
    weight : ndarray of float32/float64, shape (F, C, kh, kw)
        Updated in place.
    labels : ndarray of int, shape (B,)
        Class of each sample.
    feature_class : ndarray of int, shape (F,)
        Class each feature votes for; a winner is rewarded when it equals the label.
    reward_config, punish_config : STDPConfig
        Rates on reward and on punishment (anti-STDP: ``a_plus < 0``); they must share
        ``stabilize``, ``lower`` and ``upper``.

    Returns
    -------
    ndarray of int32, shape (B, 3)
        The winners, as :func:`max_potential_decide` (each decided with the weights the
        previous samples left).
    """
    tmap, weight, T, padding, active = _v.validate_max_potential(tmap, weight, T, padding, active)
    labels, feature_class, reward_config, punish_config = _v.validate_decision_labels(
        labels, feature_class, tmap.shape[0], weight.shape[0], reward_config, punish_config)
    if not weight.flags.writeable:
        raise ValueError("weight must be writeable (it is updated in place)")
    dtype = weight.dtype.type
    work = _transposed(weight)
    out = np.empty((tmap.shape[0], 3), dtype=np.int32)
    # One thread: the samples are sequential and each takes a fraction of a millisecond,
    # less than a parallel region's cost on a busy machine.
    _k.learn(work, tmap, T, padding[0], padding[1], active, feature_class, labels,
             dtype(reward_config.a_plus), dtype(reward_config.a_minus),
             dtype(punish_config.a_plus), dtype(punish_config.a_minus),
             dtype(reward_config.lower), dtype(reward_config.upper), bool(reward_config.stabilize), out)
    weight[...] = work.transpose(3, 0, 1, 2)
    return out
