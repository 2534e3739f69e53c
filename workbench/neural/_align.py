"""Cut spike trains around an epoch or event into labelled ``(trial, unit, time)`` arrays.

Conventions (the same everywhere in :mod:`workbench.neural`):

- **Units at the Neo boundary.**  ``window`` and ``bin_size`` are either
  :mod:`quantities` time values (``(-100, 500) * pq.ms``, ``5 * pq.ms``) or plain numbers
  *together with* ``time_unit="ms"`` (or ``"s"``...).  Plain numbers without
  ``time_unit`` are refused (:class:`TypeError`): a bare 0.1 could be seconds or
  milliseconds.
- **Output time** is always in milliseconds relative to the event; the ``time``
  coordinate is the **bin centre** (``attrs["time_reference"]`` says so) and the window is
  half-open, ``[start, stop)``.
- **Counts** are spike counts per bin from :class:`elephant.conversion.BinnedSpikeTrain`
  (with its rounding tolerance: a spike within 1e-8 bin below an edge counts above it;
  the window edges follow the same rule);
  **rates** (``kernel=`` an :class:`elephant.kernels.Kernel`) are spikes/s from
  :func:`elephant.statistics.instantaneous_rate` sampled every ``bin_size``
  (default 1 ms), computed on the window padded by the kernel's support so that the
  window edges are not biased toward zero, except where the padding would reach outside
  the recorded trial (then only recorded spikes count).
- **Trials** are the entries of the epoch/event named ``epoch_or_event`` in every segment
  that has one.  Trial coordinates carry the epoch's ``labels`` (as ``label``), each of its
  array annotations, ``event_time_ms`` and ``segment``.  Unit coordinates carry the unit
  name (dim coordinate ``unit``) and every scalar annotation the units share.
- Units **recorded together** (same segment, or the same unit names in every segment)
  go through :func:`align`.  Units that do **not** share trials (e.g. the Zhang-Desimone
  units, one session each) raise :class:`ValueError` in :func:`align`; use
  :func:`align_units`, which returns one ``(trial, time)`` array per unit, each with its
  own trial labels (the input of :func:`pseudo_population`).

Speed: all trials of a unit are binned in **one** elephant call by laying the trial
windows end to end on an auxiliary time axis (each window, plus the kernel padding,
gets its own slot), then reshaping.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["align", "align_units", "to_ms"]

_TRIAL_LIMIT_KEYS = ("trial_start_ms", "trial_stop_ms")
# Elephant's binning tolerance, in bins: a spike within it below a bin edge counts in the
# bin above (so spikes placed exactly on edges, like model steps, survive float rounding).
_TOLERANCE = 1e-8


def to_ms(value, name: str, time_unit: str | None = None) -> np.ndarray:
    """Convert a quantities time (or numbers with an explicit ``time_unit``) to float ms.

    Parameters
    ----------
    value : quantities.Quantity, number, or sequence of either
        The time(s).
    name : str
        Argument name for error messages.
    time_unit : str, optional
        Unit of plain numbers (``"ms"``, ``"s"``...); required when ``value`` has no units.

    Returns
    -------
    numpy.ndarray
        float64 milliseconds, same shape as ``value``.
    """
    import quantities as pq

    if isinstance(value, pq.Quantity):
        q = value
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, pq.Quantity) for v in value):
        # A pair of quantities, possibly in different units: convert each.
        return np.asarray([float(to_ms(v, name)) for v in value], dtype=np.float64)
    else:
        flat = np.ravel(np.asarray(value, dtype=object))
        if flat.size == 0 or not all(isinstance(v, Real) and not isinstance(v, bool) for v in flat):
            raise TypeError(f"{name} must be a quantities time (e.g. 5 * pq.ms) or number(s) with time_unit=, got {value!r}")
        if time_unit is None:
            raise TypeError(f"{name} is a plain number: give it as a quantity (e.g. {value!r} * pq.ms) or pass time_unit='ms' (or 's')")
        try:
            unit = pq.Quantity(1.0, time_unit)
        except (LookupError, ValueError, TypeError) as exc:
            raise ValueError(f"time_unit {time_unit!r} is not a unit quantities knows") from exc
        q = np.asarray(value, dtype=np.float64) * unit
    if q.dimensionality.simplified != pq.s.dimensionality:
        raise ValueError(f"{name} must be a time, got units {q.dimensionality}")
    out = np.asarray(q.rescale(pq.ms).magnitude, dtype=np.float64)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _coord_values(values: list):
    """A list of annotation values as a coordinate array (numbers stay numbers)."""
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=bool)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray([str(v) for v in values], dtype=str)


def _is_scalar(v) -> bool:
    return isinstance(v, (str, int, float, bool, np.generic)) and not isinstance(v, np.void)


def _unit_metadata(trains) -> dict[str, np.ndarray]:
    """Scalar annotations that every unit has (``nix_name``-like storage ids excluded)."""
    keys = None
    for st in trains:
        k = {key for key, v in st.annotations.items() if _is_scalar(v) and key not in ("nix_name", "nwb_group")}
        keys = k if keys is None else keys & k
    out = {}
    for key in sorted(keys or ()):
        if key in ("unit", "trial", "time"):
            name = f"{key}_annotation"  # avoid clashing with the dimension names
        else:
            name = key
        out[name] = _coord_values([st.annotations[key] for st in trains])
    return out


def _events_named(block, name: str):
    """``[(segment_index, segment, epoch_or_event)]`` for every segment holding ``name``."""
    import neo

    if not isinstance(block, neo.Block):
        raise TypeError(f"block must be a neo.Block, got {type(block).__name__}")
    if isinstance(name, (neo.Epoch, neo.Event)):
        # One object: the trials of its own segment only.
        for i, seg in enumerate(block.segments):
            if any(o is name for o in list(seg.epochs) + list(seg.events)):
                return [(i, seg, name)]
        raise ValueError(f"the {type(name).__name__} {name.name!r} passed as epoch_or_event is not in this block")
    if not isinstance(name, str):
        raise TypeError(f"epoch_or_event must be the name (str) of an epoch or event, or the object itself, got {type(name).__name__}")
    found = []
    present = set()
    for i, seg in enumerate(block.segments):
        objs = [o for o in list(seg.epochs) + list(seg.events) if o.name == name]
        present.update(str(o.name) for o in list(seg.epochs) + list(seg.events))
        if len(objs) > 1:
            raise ValueError(f"segment {seg.name or i!r} has {len(objs)} epochs/events named {name!r}; names must be unique per segment")
        if objs:
            found.append((i, seg, objs[0]))
    if not found:
        have = ", ".join(repr(p) for p in sorted(present)) or "none"
        raise ValueError(f"no epoch or event named {name!r} in the block; epochs/events present: {have}")
    return found


def _trial_coords(obj, seg_name: str, seg_index: int) -> dict[str, np.ndarray]:
    import quantities as pq

    times = np.asarray(obj.times.rescale(pq.ms).magnitude, dtype=np.float64)
    coords: dict[str, np.ndarray] = {}
    labels = np.asarray(obj.labels)
    if labels.size == times.size and times.size:
        coords["label"] = labels.astype(str)
    for key, values in obj.array_annotations.items():
        values = np.asarray(values)
        if values.ndim == 1 and values.size == times.size:
            name = key if key not in ("trial", "unit", "time") else f"trial_{key}" if key != "trial" else "trial_index"
            coords[name] = values.astype(str) if values.dtype.kind in "OUS" else values
    coords["event_time_ms"] = times
    coords["segment"] = np.asarray([seg_name or str(seg_index)] * times.size, dtype=str)
    return coords


def _validate_binning(window, bin_size, kernel, time_unit):
    import quantities as pq

    w = to_ms(window, "window", time_unit)
    if w.shape != (2,):
        raise ValueError(f"window must be a (start, stop) pair, got {window!r}")
    if not w[0] < w[1]:
        raise ValueError(f"window start must be < stop, got {window!r}")
    if kernel is not None:
        from elephant.kernels import Kernel

        if not isinstance(kernel, Kernel):
            raise TypeError(f"kernel must be an elephant.kernels.Kernel (e.g. GaussianKernel(20 * pq.ms)), got {kernel!r}")
        if bin_size is None:
            bin_size = 1.0 * pq.ms
    elif bin_size is None:
        raise ValueError("give bin_size= for binned counts, or kernel= (and optionally bin_size=) for smoothed rates")
    b = to_ms(bin_size, "bin_size", time_unit)
    if b.shape != ():
        raise ValueError(f"bin_size must be a single time, got {bin_size!r}")
    b = float(b)
    if b <= 0:
        raise ValueError(f"bin_size must be > 0, got {bin_size!r}")
    n_float = (w[1] - w[0]) / b
    n_bins = int(round(n_float))
    if n_bins < 1 or abs(n_float - n_bins) > 1e-9 * max(1.0, n_float):
        raise ValueError(f"window length {w[1] - w[0]} ms must be a whole number of bins of {b} ms")
    return float(w[0]), float(w[1]), b, n_bins


def _trial_limits(obj, seg_trains, event_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import quantities as pq

    lo = np.full(event_ms.shape, max(float(st.t_start.rescale(pq.ms)) for st in seg_trains))
    hi = np.full(event_ms.shape, min(float(st.t_stop.rescale(pq.ms)) for st in seg_trains))
    ann = obj.array_annotations
    if all(k in ann for k in _TRIAL_LIMIT_KEYS):
        lo = np.maximum(lo, np.asarray(ann["trial_start_ms"], dtype=np.float64))
        hi = np.minimum(hi, np.asarray(ann["trial_stop_ms"], dtype=np.float64))
    return lo, hi


def _check_windows(event_ms, lo, hi, w0, w1, where: str) -> None:
    tol = 1e-9 * max(1.0, float(np.max(np.abs(event_ms))) if event_ms.size else 1.0)
    bad = (event_ms + w0 < lo - tol) | (event_ms + w1 > hi + tol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"window [{w0}, {w1}) ms reaches outside the recorded trial for {int(bad.sum())} of {bad.size} trials in {where} "
            f"(first: trial {i}, allowed [{lo[i] - event_ms[i]:g}, {hi[i] - event_ms[i]:g}] ms around its event)"
        )


def _bin_unit(times_ms: np.ndarray, event_ms, lo, hi, w0, w1, bin_ms, n_bins, kernel):
    """One unit's ``(trial, time)`` counts or rates (float64)."""
    import neo
    import quantities as pq

    n_trials = event_ms.size
    pad_bins = 0
    if kernel is not None:
        cutoff = max(5.0, float(kernel.min_cutoff))
        sigma = float(kernel.sigma.rescale(pq.ms).magnitude)
        median = abs(float(kernel.icdf(0.5).rescale(pq.ms).magnitude))
        pad_bins = int(math.ceil((cutoff * sigma + median) / bin_ms)) + 1
    slot_bins = n_bins + 2 * pad_bins
    slot = slot_bins * bin_ms
    # Spikes of trial k in [event + w0 - pad, event + w1 + pad) (and inside the recorded
    # trial) go to k * slot + (t - (event + w0 - pad)).
    start = event_ms + w0 - pad_bins * bin_ms
    a = np.maximum(start, lo) if pad_bins else start
    b = np.minimum(start + slot, hi) if pad_bins else event_ms + w1
    # Same rounding rule as the binning: a spike within the tolerance below an edge belongs
    # above it (so a spike "at" the window end, up to float error, is the next trial's).
    tol = _TOLERANCE * bin_ms
    i0 = np.searchsorted(times_ms, a - tol, side="left")
    i1 = np.searchsorted(times_ms, b - tol, side="left")
    lengths = np.maximum(i1 - i0, 0)
    # Indices of every selected spike, trial after trial, without a Python loop.
    trial_of = np.repeat(np.arange(n_trials), lengths)
    idx = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(i0, lengths)
    rel = times_ms[idx] - start[trial_of]
    # Keep each spike inside its own slot despite float rounding of the subtraction (and
    # out of reach of elephant's rounding tolerance at the slot's end).
    rel = np.clip(rel, 0.0, slot - 2 * _TOLERANCE * bin_ms)
    shifted = trial_of * slot + rel
    total = n_trials * slot
    train = neo.SpikeTrain(np.sort(shifted) * pq.ms, t_start=0 * pq.ms, t_stop=total * pq.ms)
    if kernel is None:
        from elephant.conversion import BinnedSpikeTrain

        import logging

        from elephant import utils as elephant_utils

        # Elephant logs every rounding correction; here they are expected (spikes placed on
        # bin edges, e.g. model steps), so keep the log quiet during the call.
        import warnings

        level = elephant_utils.logger.level
        elephant_utils.logger.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                # elephant 1.2 passes a deprecated argument to quantities; not the user's concern.
                warnings.filterwarnings("ignore", message="The 'copy' argument in Quantity is deprecated")
                binned = BinnedSpikeTrain(train, bin_size=bin_ms * pq.ms, t_start=0 * pq.ms, t_stop=total * pq.ms, tolerance=_TOLERANCE)
                counts = binned.to_array()[0].reshape(n_trials, slot_bins)
        finally:
            elephant_utils.logger.setLevel(level)
        return counts.astype(np.float64)
    import warnings

    from elephant.statistics import instantaneous_rate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kernel width adjustment notes; pad already covers it
        # Elephant truncates (t_stop - t_start) / sampling_period to an int; half a bin of
        # slack makes that exactly n_trials * slot_bins despite float rounding.
        train = neo.SpikeTrain(train.magnitude * pq.ms, t_start=0 * pq.ms, t_stop=(total + 0.5 * bin_ms) * pq.ms)
        rate = instantaneous_rate(train, sampling_period=bin_ms * pq.ms, kernel=kernel, cutoff=cutoff, t_start=0 * pq.ms, t_stop=(total + 0.5 * bin_ms) * pq.ms)
    values = np.asarray(rate.rescale(pq.Hz).magnitude)[:, 0]
    values = values[: n_trials * slot_bins].reshape(n_trials, slot_bins)
    return values[:, pad_bins : pad_bins + n_bins].copy()


def _unit_key(st, i: int):
    return st.name if st.name else i


def _attrs(name, w0, w1, bin_ms, kernel, block):
    name = name if isinstance(name, str) else str(name.name)
    attrs = {
        "event": name,
        "window_ms": [w0, w1],
        "bin_size_ms": bin_ms,
        "time_units": "ms",
        "time_reference": f"bin centre, ms relative to {name!r}; bins are [start, start + bin_size)",
        "kind": "rate" if kernel is not None else "counts",
        "units": "spikes/s" if kernel is not None else "spikes per bin",
        "source": str(block.file_origin or block.name or ""),
    }
    if kernel is not None:
        attrs["kernel"] = f"{type(kernel).__name__}(sigma={kernel.sigma})"
    return attrs


def align(block, epoch_or_event: str, window, bin_size=None, kernel=None, *, time_unit: str | None = None):
    """Spike counts or rates of units recorded together, around an epoch or event.

    Parameters
    ----------
    block : neo.Block
        The recording (e.g. from :func:`load`).
    epoch_or_event : str, neo.Epoch or neo.Event
        Name of the :class:`neo.Epoch` (its start times) or :class:`neo.Event` to align to;
        every segment that holds one contributes its entries as trials.  An Epoch/Event
        object of the block selects just that object (and its segment).
    window : pair of quantities times, or pair of numbers with ``time_unit``
        ``(start, stop)`` relative to each event, half-open; a whole number of bins.
    bin_size : quantities time or number with ``time_unit``, optional
        Bin width; required for counts, default 1 ms for rates.
    kernel : elephant.kernels.Kernel, optional
        Smoothing kernel: returns rates (spikes/s) instead of counts.
    time_unit : str, optional
        Unit of plain-number ``window``/``bin_size`` (e.g. ``"ms"``).

    Returns
    -------
    xarray.DataArray
        float64, dims ``(trial, unit, time)``; ``time`` is the bin centre in ms relative to
        the event.  Coordinates: see the module docstring.

    Raises
    ------
    ValueError
        Unknown epoch/event (lists those present), a segment without units, units that do
        not share trials (use :func:`align_units`), a window outside the recorded trials.
    TypeError
        Plain numbers without ``time_unit``, a kernel that is not an elephant kernel.
    """
    import quantities as pq
    import xarray as xr

    w0, w1, bin_ms, n_bins = _validate_binning(window, bin_size, kernel, time_unit)
    found = _events_named(block, epoch_or_event)
    event_name = epoch_or_event if isinstance(epoch_or_event, str) else str(epoch_or_event.name)
    keys = None
    ref_trains = None
    for i, seg, _ in found:
        if not seg.spiketrains:
            raise ValueError(f"segment {seg.name or i!r} has {event_name!r} but no units (spike trains)")
        seg_keys = [_unit_key(st, j) for j, st in enumerate(seg.spiketrains)]
        if len(set(seg_keys)) != len(seg_keys):
            raise ValueError(f"segment {seg.name or i!r} has duplicate unit names; names identify units across segments")
        if keys is None:
            keys, ref_trains = seg_keys, list(seg.spiketrains)
        elif seg_keys != keys:
            raise ValueError(
                f"units are not recorded together: segment {seg.name or i!r} has units {seg_keys[:5]}... but segment "
                f"{found[0][1].name or found[0][0]!r} has {keys[:5]}...; for units with separate trials use "
                "align_units() (one (trial, time) array per unit) and pseudo_population()"
            )
    blocks = []
    trial_coords: dict[str, list] = {}
    for i, seg, obj in found:
        event_ms = np.asarray(obj.times.rescale(pq.ms).magnitude, dtype=np.float64)
        lo, hi = _trial_limits(obj, seg.spiketrains, event_ms)
        _check_windows(event_ms, lo, hi, w0, w1, f"segment {seg.name or i!r}")
        per_unit = [
            _bin_unit(np.sort(st.times.rescale(pq.ms).magnitude.astype(np.float64)), event_ms, lo, hi, w0, w1, bin_ms, n_bins, kernel)
            for st in seg.spiketrains
        ]
        blocks.append(np.stack(per_unit, axis=1) if per_unit else np.zeros((event_ms.size, 0, n_bins)))
        for key, values in _trial_coords(obj, seg.name, i).items():
            trial_coords.setdefault(key, []).append(values)
    # Keep only trial coordinates every segment provides, so lengths line up.
    trial_coords = {k: np.concatenate(v) for k, v in trial_coords.items() if len(v) == len(found)}
    data = np.concatenate(blocks, axis=0)
    if data.shape[0] == 0:
        raise ValueError(f"{event_name!r} has no entries: no trials to align")
    coords = {
        "trial": np.arange(data.shape[0]),
        "unit": np.asarray([str(k) for k in keys]) if all(isinstance(k, str) for k in keys) else np.asarray([f"unit{k}" if not isinstance(k, str) else k for k in keys]),
        "time": w0 + bin_ms * (np.arange(n_bins) + 0.5),
    }
    for key, values in trial_coords.items():
        coords[key] = ("trial", values)
    for key, values in _unit_metadata(ref_trains).items():
        coords[key if key not in coords else f"unit_{key}"] = ("unit", values)  # trial coords keep their names
    return xr.DataArray(data, dims=("trial", "unit", "time"), coords=coords, name="rate" if kernel is not None else "counts", attrs=_attrs(epoch_or_event, w0, w1, bin_ms, kernel, block))


def align_units(block, epoch_or_event: str, window, bin_size=None, kernel=None, *, time_unit: str | None = None) -> list:
    """Per-unit ``(trial, time)`` arrays for units that do not share trials.

    Same arguments and conventions as :func:`align`.  Every spike train of every segment
    that holds ``epoch_or_event`` gives one array, aligned to that segment's entries.

    Returns
    -------
    list of xarray.DataArray
        One per unit, dims ``(trial, time)``, named after the unit; trial coordinates as in
        :func:`align` (the unit's own labels); unit metadata as scalar coordinates
        (``unit`` = name, plus the unit's scalar annotations).
    """
    import quantities as pq
    import xarray as xr

    w0, w1, bin_ms, n_bins = _validate_binning(window, bin_size, kernel, time_unit)
    found = _events_named(block, epoch_or_event)
    event_name = epoch_or_event if isinstance(epoch_or_event, str) else str(epoch_or_event.name)
    out = []
    time = w0 + bin_ms * (np.arange(n_bins) + 0.5)
    for i, seg, obj in found:
        if not seg.spiketrains:
            raise ValueError(f"segment {seg.name or i!r} has {event_name!r} but no units (spike trains)")
        event_ms = np.asarray(obj.times.rescale(pq.ms).magnitude, dtype=np.float64)
        if event_ms.size == 0:
            raise ValueError(f"{event_name!r} in segment {seg.name or i!r} has no entries: no trials to align")
        tcoords = _trial_coords(obj, seg.name, i)
        for j, st in enumerate(seg.spiketrains):
            lo, hi = _trial_limits(obj, [st], event_ms)
            _check_windows(event_ms, lo, hi, w0, w1, f"segment {seg.name or i!r}")
            values = _bin_unit(np.sort(st.times.rescale(pq.ms).magnitude.astype(np.float64)), event_ms, lo, hi, w0, w1, bin_ms, n_bins, kernel)
            name = str(st.name) if st.name else f"{seg.name or i}/unit{j}"
            coords = {"trial": np.arange(event_ms.size), "time": time, "unit": name}
            for key, v in tcoords.items():
                coords[key] = ("trial", v)
            for key, v in _unit_metadata([st]).items():
                coords[key if key not in coords else f"unit_{key}"] = v[0]
            out.append(xr.DataArray(values, dims=("trial", "time"), coords=coords, name=name, attrs=_attrs(epoch_or_event, w0, w1, bin_ms, kernel, block)))
    return out
