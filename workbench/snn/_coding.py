"""Spike coding: images to spike-waves / time maps, and conversions between them.

All coders treat each sample as one population of ``C*H*W`` neurons (Spyker's ``code``
flattens everything after the batch axis).  Rank order and linear latency codes produce
one spike per neuron; the cumulative wave and the int32 time map are two lossless views
of the same thing (:func:`gather` / :func:`scatter`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._threads import get_num_threads
from .._validation import FLOAT_DTYPES, TIME_DTYPE, WAVE_DTYPE, check_array, check_int
from .._kernels import coding as _k
from ._dispatch import gpu_dispatch
from . import _checks as _v  # input validation shared with workbench.cuda

__all__ = [
    "rank_code",
    "rank_code_timemap",
    "rate_code",
    "gather",
    "scatter",
    "infinite",
    "EventList",
    "to_events",
    "from_events",
]


def _check_images(images, name: str = "images") -> np.ndarray:
    return check_array(images, name, ndim=4, dtypes=FLOAT_DTYPES, finite=True, min_shape=(1, 1, 1, 1))


@gpu_dispatch()
def rank_code_timemap(images: np.ndarray, T: int, sort: bool = True) -> np.ndarray:
    """First-spike steps of the rank-order (or linear-latency) code, without the wave.

    Equal to ``gather(rank_code(images, T, sort))`` but never builds the
    ``(B, T, C, H, W)`` wave; this is the entry point of the event-driven path.

    Parameters
    ----------
    images : ndarray, float32 or float64, shape (B, C, H, W)
        Intensities; each sample is coded independently over its ``C*H*W`` values.
    T : int
        Number of time steps, ``1 <= T <= 65535``.
    sort : bool
        ``True``: rank-order code.  ``False``: linear latency code.

    Returns
    -------
    tmap : ndarray, int32, shape (B, C, H, W)
        First-spike step of each neuron in ``[0, T]``; ``T`` means never fired.

    Notes
    -----
    Rank order (``sort=True``), as Spyker 0.1.0: let ``n`` be the number of values above
    the sample's minimum.  Those values are ranked in descending order (rank ``r`` in
    ``0..n-1``) and fire at step ``trunc(r * ((T + 1e-5) / n))`` computed in float32
    exactly as Spyker does (so for moderate ``T`` this is ``floor(r*T/n)``; the 1e-5
    keeps exact bin edges in the upper bin).  Values equal to the minimum never fire.

    Linear latency (``sort=False``), as Spyker 0.1.0:
    ``step = trunc((T + 1e-5) - s * (x - min))`` with ``s = (T + 1e-5) / (max - min)``
    rounded to float32 and the subtraction done as one fused multiply-add (Spyker's
    build contracts it; reproduced so bins agree bit for bit); the maximum fires at 0 and
    the minimum never.

    Ties (equal values, rank code): ranked by ascending flat index ``(c, y, x)`` (a
    stable sort).  Spyker uses an unstable ``std::sort`` so its order inside a tie group
    is unspecified; the multiset of steps within each tie group is the same.

    Deliberate differences from Spyker:

    * a constant sample (including all-zero input) produces no spikes; Spyker divides by
      zero there and makes every neuron fire at step 0.
    * a value equal to the sample minimum never fires; Spyker's float32 ``rank * scale``
      can round the minimum's rank ``n`` down to ``T - 1`` (e.g. ``n = 2877``,
      ``T = 1000``) and make it fire at the last step.
    """
    images, T, sort = _v.validate_rank_code_timemap(images, T, sort)
    images = np.ascontiguousarray(images)
    B = images.shape[0]
    flat = images.reshape(B, -1)
    out = np.empty(flat.shape, dtype=TIME_DTYPE)
    nt = get_num_threads()
    if sort:
        if flat.dtype == np.float32:
            _k.rank_timemap_f32(flat, out, T, nt)
        else:
            _k.rank_timemap_f64(flat, out, T, nt)
    else:
        _k.latency_timemap(flat, out, T, nt)
    return out.reshape(images.shape)


@gpu_dispatch()
def rank_code(images: np.ndarray, T: int, sort: bool = True) -> np.ndarray:
    """Rank-order (``sort=True``) or linear-latency (``sort=False``) spike-wave.

    Parameters
    ----------
    images : ndarray, float32 or float64, shape (B, C, H, W)
    T : int
        Number of time steps, ``1 <= T <= 65535``.
    sort : bool
        Rank order (``True``) or linear latency (``False``).

    Returns
    -------
    wave : ndarray, uint8, shape (B, T, C, H, W)
        Cumulative: ``wave[b, t] == 1`` iff the neuron fired at or before step ``t``.

    Notes
    -----
    ``scatter(rank_code_timemap(images, T, sort), T)``; see :func:`rank_code_timemap`
    for the exact timing rule, the tie rule and the differences from Spyker.
    """
    return scatter(rank_code_timemap(images, T, sort), T)


def rate_code(images: np.ndarray, T: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Bernoulli rate code: each neuron spikes at each step with probability ~ intensity.

    Parameters
    ----------
    images : ndarray, float32 or float64, shape (B, C, H, W)
    T : int
        Number of time steps, ``1 <= T <= 65535``.
    seed : int, numpy.random.Generator or None
        Seed of a :func:`numpy.random.default_rng` generator (or a generator to draw
        from); the same seed gives the same wave.

    Returns
    -------
    wave : ndarray, uint8, shape (B, T, C, H, W)
        Cumulative spike COUNT: ``wave[b, t]`` is the number of spikes at or before
        step ``t`` (saturating at 255), as Spyker's ``code(..., code="rate")`` returns.
        ``wave != 0`` is the usual cumulative first-spike wave, so :func:`gather` gives
        the first-spike steps.

    Notes
    -----
    Per sample the intensities are scaled to ``p = (x - min) / (max - min)`` and every
    neuron spikes independently at each step with probability ``p`` (so the expected
    count is ``p * T``: firing rate proportional to intensity above the minimum).  A
    constant sample never spikes.

    Difference from Spyker: Spyker draws inter-spike intervals from a Poisson table
    with its own global ``std::mt19937`` (seeded by ``spyker.random_seed``), which
    cannot be reproduced here; only the statistics (rate increasing with intensity,
    maximum intensity spiking most, minimum never) are comparable.
    """
    images = _check_images(images)
    T = _v._check_T(T, max_value=_v.MAX_T)
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        rng = np.random.default_rng(seed)
    else:
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}")
    B = images.shape[0]
    flat = images.reshape(B, -1).astype(np.float64)
    lo = flat.min(axis=1, keepdims=True)
    span = flat.max(axis=1, keepdims=True) - lo
    p = np.divide(flat - lo, span, out=np.zeros_like(flat), where=span > 0)
    # Draw step by step to keep memory at one float array of (B, N) per step.
    counts = np.zeros(flat.shape, dtype=np.uint16)
    wave = np.empty((B, T, flat.shape[1]), dtype=WAVE_DTYPE)
    for t in range(T):
        counts += rng.random(flat.shape) < p
        np.minimum(counts, 255, out=wave[:, t])
    return wave.reshape((B, T) + images.shape[1:])


@gpu_dispatch()
def gather(wave: np.ndarray) -> np.ndarray:
    """Time map of a spike-wave: the first step where each neuron's entry is non-zero.

    Parameters
    ----------
    wave : ndarray, uint8, shape (B, T, C, H, W) or (B, T, N)
        A cumulative wave (or a spike-count wave from :func:`rate_code`); only the
        first non-zero step matters.

    Returns
    -------
    tmap : ndarray, int32, shape (B, C, H, W) or (B, N)
        First non-zero step, ``T`` where the neuron never fired (as Spyker's ``gather``).
    """
    wave = np.ascontiguousarray(_v.validate_gather(wave))
    B, T = wave.shape[:2]
    out = np.empty((B,) + wave.shape[2:], dtype=TIME_DTYPE)
    if out.size:
        _k.gather(wave.reshape(B, T, -1), out.reshape(B, -1), get_num_threads())
    return out


@gpu_dispatch()
def scatter(tmap: np.ndarray, T: int) -> np.ndarray:
    """Cumulative spike-wave of a time map (inverse of :func:`gather`).

    Parameters
    ----------
    tmap : ndarray, int32, shape (B, C, H, W) or (B, N)
        First-spike steps in ``[0, T]`` (``T`` = never).
    T : int
        Number of time steps, ``>= 1``.

    Returns
    -------
    wave : ndarray, uint8, shape (B, T, C, H, W) or (B, T, N)
        ``wave[b, t, c, y, x] = 1`` iff ``tmap[b, c, y, x] <= t``.
    """
    tmap, T = _v.validate_scatter(tmap, T)
    tmap = np.ascontiguousarray(tmap)
    B = tmap.shape[0]
    out = np.empty((B, T) + tmap.shape[1:], dtype=WAVE_DTYPE)
    if out.size:
        _k.scatter(tmap.reshape(B, -1), out.reshape(B, T, -1), get_num_threads())
    return out


@gpu_dispatch()
def infinite(wave: np.ndarray) -> np.ndarray:
    """Copy of ``wave`` whose last step is all ones: every neuron fires by step ``T-1``.

    Parameters
    ----------
    wave : ndarray, uint8, shape (B, T, C, H, W)

    Returns
    -------
    wave : ndarray, uint8, shape (B, T, C, H, W)
        A new array; the input is not modified.

    Notes
    -----
    Spyker's ``infinite(potentials, value)`` works on float potentials in place and sets
    the last step's potentials to ``value`` where they are below it, so that every neuron
    reaches threshold by the end.  On a cumulative wave that means "every neuron fires at
    the last step at the latest", which is what this returns (on a count wave from
    :func:`rate_code`, zero entries of the last step become 1 and others are kept).
    """
    out = _v.validate_infinite(wave).copy()
    last = out[:, -1]
    last[last == 0] = 1
    return out


@dataclass(frozen=True, eq=False)
class EventList:
    """Spikes of a time map as a flat event list (one event per neuron that fired).

    Attributes
    ----------
    batch, channel, y, x, time : ndarray, int32, shape (n,)
        Event coordinates, sorted by ``(batch, time)`` and, within equal time, by
        ``(channel, y, x)`` (C order).
    shape : tuple of int
        ``(B, C, H, W)`` of the time map.
    T : int
        Number of time steps.
    """

    batch: np.ndarray
    channel: np.ndarray
    y: np.ndarray
    x: np.ndarray
    time: np.ndarray
    shape: tuple[int, int, int, int]
    T: int

    def __len__(self) -> int:
        return int(self.batch.shape[0])

    def __eq__(self, other) -> bool:
        if not isinstance(other, EventList):
            return NotImplemented
        return (
            self.shape == other.shape
            and self.T == other.T
            and all(np.array_equal(getattr(self, f), getattr(other, f)) for f in ("batch", "channel", "y", "x", "time"))
        )


def to_events(tmap: np.ndarray, T: int | None = None) -> EventList:
    """Event list of a time map (lossless; see :func:`from_events`).

    Parameters
    ----------
    tmap : ndarray, int32, shape (B, C, H, W)
        First-spike steps in ``[0, T]``.
    T : int, optional
        Number of time steps (the "never" marker).  Default: ``max(tmap.max(), 1)``.

    Returns
    -------
    EventList

    Notes
    -----
    Without ``T`` the largest value in ``tmap`` is taken as the "never" marker (the
    neurons that have it produce no event).  This is right whenever at least one neuron
    did not fire; pass ``T`` explicitly otherwise.
    """
    tmap = check_array(tmap, "tmap", ndim=4, dtypes=[TIME_DTYPE])
    if T is None:
        if tmap.size == 0:
            raise ValueError("T must be given for an empty tmap")
        T = max(int(tmap.max()), 1)
    T = check_int(T, "T", min_value=1, max_value=np.iinfo(np.int32).max)
    if tmap.size and (tmap.min() < 0 or tmap.max() > T):
        raise ValueError(f"tmap values must lie in [0, T={T}]")
    B = tmap.shape[0]
    flat = tmap.reshape(B, -1)
    b, idx = np.nonzero(flat < T)
    t = flat[b, idx]
    # np.nonzero is already in (batch, flat index) order; a stable sort by (batch, time)
    # keeps the flat index order inside equal times.
    order = np.lexsort((t, b))
    b, idx, t = b[order], idx[order], t[order]
    c, yy, xx = np.unravel_index(idx, tmap.shape[1:])
    as32 = lambda a: np.ascontiguousarray(a, dtype=np.int32)  # noqa: E731
    return EventList(as32(b), as32(c), as32(yy), as32(xx), as32(t), tuple(int(s) for s in tmap.shape), T)


def from_events(events: EventList) -> np.ndarray:
    """Time map of an event list (inverse of :func:`to_events`).

    Parameters
    ----------
    events : EventList

    Returns
    -------
    tmap : ndarray, int32, shape ``events.shape``
        ``T`` where no event exists.  If a neuron has several events the earliest wins.
    """
    if not isinstance(events, EventList):
        raise TypeError(f"events must be an EventList, got {type(events).__name__}")
    shape = events.shape
    if len(shape) != 4 or any(int(s) < 0 for s in shape):
        raise ValueError(f"events.shape must be 4 non-negative ints, got {shape!r}")
    T = check_int(events.T, "events.T", min_value=1, max_value=np.iinfo(np.int32).max)
    fields = {f: np.asarray(getattr(events, f)) for f in ("batch", "channel", "y", "x", "time")}
    n = fields["batch"].shape
    for f, a in fields.items():
        if a.ndim != 1 or a.shape != n:
            raise ValueError(f"events.{f} must be 1-D with the same length as events.batch")
        if a.dtype.kind not in "iu":
            raise TypeError(f"events.{f} must have an integer dtype, got {a.dtype}")
    for f, dim in zip(("batch", "channel", "y", "x"), shape):
        a = fields[f]
        if a.size and (a.min() < 0 or a.max() >= dim):
            raise ValueError(f"events.{f} out of range for shape {shape}")
    t = fields["time"]
    if t.size and (t.min() < 0 or t.max() >= T):
        raise ValueError(f"events.time must lie in [0, T={T})")
    out = np.full(shape, T, dtype=TIME_DTYPE)
    np.minimum.at(out, (fields["batch"], fields["channel"], fields["y"], fields["x"]), t.astype(TIME_DTYPE))
    return out
