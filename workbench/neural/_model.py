"""The model side of the comparison: network responses as the same labelled array (and as Neo).

Networks export per-layer representations as plain arrays; this module never imports the
simulator.  Accepted forms (``S`` stimuli, ``U`` units, ``T`` time steps):

``"wave"``
    ``(S, U, T)`` uint8 cumulative spike-wave, the simulator's layout with units flattened:
    ``wave[s, u, t]`` is the number of spikes unit ``u`` fired at or before step ``t``.
    A rank-code / first-spike wave holds 0/1 (one spike, at the first step at 1); a
    rate-code wave (``workbench.snn.rate_code``, ``fire(..., method="rate")``) holds
    cumulative spike COUNTS.  Converted to spikes per step: the increase of the count at
    each step.  The simulator saturates counts at 255, so a unit whose wave reaches 255
    may have fired more spikes than the array records.
``"spikes"``
    ``(S, U, T)`` non-negative spike counts per step (any integer or float dtype).
``"latency"``
    ``(S, U)`` int32 (or uint8) first-spike step, ``n_steps`` (``T``) meaning "never
    fired" (the simulator's time map); one spike at the latency step.
``"count"``
    ``(S, U)`` non-negative spike counts over the whole presentation of ``n_steps`` steps:
    one time bin spanning the presentation.

The simulator's own layouts, ``(B, T, C, H, W)`` waves and ``(B, C, H, W)`` time maps or
counts, are flattened into units (C order) with ``feature``/``y``/``x`` unit coordinates.

The result is a float64 :class:`xarray.DataArray` with dims ``(stimulus, unit, time)`` of
spikes per step, ``time`` = bin centre in ms (``(t + 0.5) * step_ms``), the same layout as
:func:`align` returns for recordings (with ``stimulus`` in place of ``trial``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._validation import TIME_DTYPE, WAVE_DTYPE, check_array, check_choice, check_float, check_int

__all__ = ["from_model_responses", "to_neo", "MODEL_KINDS"]

MODEL_KINDS = ("wave", "spikes", "latency", "count")


def _label_coords(stimulus_labels, n: int) -> dict[str, np.ndarray]:
    if stimulus_labels is None:
        return {}
    if isinstance(stimulus_labels, Mapping):
        items = dict(stimulus_labels)
    else:
        items = {"label": stimulus_labels}
    out = {}
    for key, values in items.items():
        if not isinstance(key, str) or key in ("stimulus", "unit", "time"):
            raise ValueError(f"stimulus_labels key {key!r} must be a str other than 'stimulus', 'unit', 'time'")
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.size != n:
            raise ValueError(f"stimulus_labels[{key!r}] must have one entry per stimulus ({n}), got shape {arr.shape}")
        out[key] = arr.astype(str) if arr.dtype.kind in "OUS" else arr
    return out


def _unit_coord(unit_names, n: int) -> np.ndarray:
    if unit_names is None:
        return np.asarray([f"unit{i}" for i in range(n)])
    names = np.asarray(unit_names)
    if names.ndim != 1 or names.size != n:
        raise ValueError(f"unit_names must have one entry per unit ({n}), got shape {names.shape}")
    names = names.astype(str)
    if np.unique(names).size != n:
        raise ValueError("unit_names must be unique")
    return names


def from_model_responses(
    array: np.ndarray,
    kind: str = "wave",
    *,
    stimulus_labels=None,
    unit_names: Sequence[str] | None = None,
    step_ms: float = 1.0,
    n_steps: int | None = None,
    layer: str | None = None,
):
    """Model responses as a ``(stimulus, unit, time)`` DataArray of spikes per time step.

    Parameters
    ----------
    array : numpy.ndarray
        ``(S, U, T)`` for ``kind="wave"`` (uint8, cumulative: 0/1 first-spike waves or
        rate-code count waves) or ``"spikes"``; ``(S, U)`` for
        ``"latency"`` (int32 or uint8) or ``"count"``.  The simulator's spatial layouts are
        accepted too and flattened (C order) into units, with ``feature``, ``y``, ``x``
        unit coordinates: ``(B, T, C, H, W)`` for waves/spikes, ``(B, C, H, W)`` for
        latencies/counts (as ``workbench.networks`` exports them).  See the module docstring.
    kind : {"wave", "spikes", "latency", "count"}
        What ``array`` holds.
    stimulus_labels : array_like or mapping of str to array_like, optional
        One label per stimulus (coordinate ``label``), or several named label vectors
        (e.g. ``{"stimulus_ID": ..., "position": ...}``), each a ``stimulus`` coordinate.
    unit_names : sequence of str, optional
        Unique unit names (default ``unit0``, ``unit1``...).
    step_ms : float
        Declared duration of one time step in ms (> 0).
    n_steps : int, optional
        Number of time steps ``T``; required for ``"latency"`` and ``"count"``.
    layer : str, optional
        Layer name, kept in ``attrs``.

    Returns
    -------
    xarray.DataArray
        float64, dims ``(stimulus, unit, time)``.

    Raises
    ------
    TypeError
        Wrong array type or dtype.
    ValueError
        Wrong shape, negative or non-finite values, a wave that decreases along time
        (not cumulative), latencies
        outside ``0..n_steps``, mismatched label or name lengths.
    """
    import xarray as xr

    check_choice(kind, "kind", MODEL_KINDS)
    step_ms = check_float(step_ms, "step_ms", min_value=0.0, strict_min=True)
    spatial = None  # (C, H, W) when the input had the simulator's spatial layout
    if kind == "wave":
        a = check_array(array, "array", ndim=(3, 5), dtypes=(WAVE_DTYPE,), min_shape=(1,) * array.ndim if isinstance(array, np.ndarray) else None)
        if a.ndim == 5:  # simulator layout (B, T, C, H, W) -> (B, C*H*W, T)
            spatial = a.shape[2:]
            a = np.ascontiguousarray(a.reshape(a.shape[0], a.shape[1], -1).transpose(0, 2, 1))
        # Values are cumulative spike counts (0/1 for rank-code waves, any count for
        # rate-code waves): spikes per step are the increments.  int16 holds the uint8
        # differences without wrapping (int8 would wrap 0 -> 255 to -1, or 255 -> 0 to 1).
        steps = np.diff(a.astype(np.int16), axis=2, prepend=np.int16(0))
        if (steps < 0).any():
            raise ValueError(
                "array (kind='wave') must be cumulative (non-decreasing along time): a spike-wave holds the "
                "number of spikes at or before each step"
            )
        spikes = steps.astype(np.float64)
    elif kind == "spikes":
        if not isinstance(array, np.ndarray):
            raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
        if array.dtype.kind not in "uif":
            raise TypeError(f"array (kind='spikes') must have an integer or float dtype, got {array.dtype}")
        a = check_array(array, "array", ndim=(3, 5), finite=True, min_shape=(1,) * array.ndim)
        if a.ndim == 5:
            spatial = a.shape[2:]
            a = a.reshape(a.shape[0], a.shape[1], -1).transpose(0, 2, 1)
        if (a < 0).any():
            raise ValueError("array (kind='spikes') must be non-negative")
        spikes = a.astype(np.float64)
    elif kind == "latency":
        if not isinstance(array, np.ndarray):
            raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
        # Networks export int32 time maps, or uint8 when T < 255.
        a = check_array(array, "array", ndim=(2, 4), dtypes=(TIME_DTYPE, WAVE_DTYPE), min_shape=(1,) * array.ndim)
        if a.ndim == 4:  # (B, C, H, W) -> (B, C*H*W)
            spatial = a.shape[1:]
            a = a.reshape(a.shape[0], -1)
        if n_steps is None:
            raise ValueError("n_steps is required for kind='latency' (the value meaning 'never fired')")
        n_steps = check_int(n_steps, "n_steps", min_value=1)
        if (a < 0).any() or (a > n_steps).any():
            raise ValueError(f"array (kind='latency') must hold steps in 0..{n_steps} ({n_steps} = never fired)")
        spikes = np.zeros(a.shape + (n_steps + 1,), dtype=np.float64)
        np.put_along_axis(spikes, a[..., None].astype(np.int64), 1.0, axis=2)
        spikes = spikes[..., :n_steps]  # drop the "never fired" slot
    else:  # count
        if not isinstance(array, np.ndarray):
            raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
        if array.dtype.kind not in "uif":
            raise TypeError(f"array (kind='count') must have an integer or float dtype, got {array.dtype}")
        a = check_array(array, "array", ndim=(2, 4), finite=True, min_shape=(1,) * array.ndim)
        if a.ndim == 4:
            spatial = a.shape[1:]
            a = a.reshape(a.shape[0], -1)
        if n_steps is None:
            raise ValueError("n_steps is required for kind='count' (the presentation length in steps)")
        n_steps = check_int(n_steps, "n_steps", min_value=1)
        if (a < 0).any():
            raise ValueError("array (kind='count') must be non-negative")
        spikes = a.astype(np.float64)[..., None]
    n_stim, n_units, n_time = spikes.shape
    bin_ms = step_ms * (n_steps if kind == "count" else 1)
    coords = {
        "stimulus": np.arange(n_stim),
        "unit": _unit_coord(unit_names, n_units),
        "time": (np.arange(n_time) + 0.5) * bin_ms,
    }
    for key, values in _label_coords(stimulus_labels, n_stim).items():
        coords[key] = ("stimulus", values)
    if spatial is not None:
        # Where each flattened unit sits in its layer (C-order flattening of (C, H, W)).
        feature, y, x = np.unravel_index(np.arange(n_units), spatial)
        coords.update({"feature": ("unit", feature), "y": ("unit", y), "x": ("unit", x)})
    attrs = {
        "kind": "counts",
        "model_kind": kind,
        "step_ms": step_ms,
        "bin_size_ms": bin_ms,
        "window_ms": [0.0, bin_ms * n_time],
        "time_units": "ms",
        "time_reference": "bin centre, ms from stimulus onset (step t spans [t, t + 1) * step_ms)",
        "units": "spikes per bin",
        "source": "model",
    }
    if layer is not None:
        attrs["layer"] = str(layer)
    return xr.DataArray(spikes, dims=("stimulus", "unit", "time"), coords=coords, name=layer or "model", attrs=attrs)


def to_neo(responses, step_duration=None, *, time_unit: str | None = None, n_steps: int | None = None, stimulus_labels=None, unit_names=None):
    """Model responses as a :class:`neo.Block`: one spike train per model unit.

    The stimuli are laid end to end on one clock: stimulus ``s`` occupies
    ``[s * T, (s + 1) * T) * step_duration``, and a spike in step ``t`` is at
    ``(s * T + t) * step_duration`` (step start).  An epoch ``"stimulus"`` marks each
    presentation with the stimulus labels, so ``align(block, "stimulus", (0, T * dt),
    dt)`` gives the responses back.

    Parameters
    ----------
    responses : xarray.DataArray or numpy.ndarray
        A ``(stimulus, unit, time)`` DataArray of spikes per step (from
        :func:`from_model_responses`; non-negative integer values), or a ``(S, U)`` int32
        first-spike time map (``n_steps`` = never fired).
    step_duration : quantities time, or number with ``time_unit``, optional
        Duration of one time step; default the DataArray's ``attrs["bin_size_ms"]``.
    time_unit : str, optional
        Unit of a plain-number ``step_duration``.
    n_steps : int, optional
        ``T`` for a time map (required there).
    stimulus_labels, unit_names : optional
        For a time map: labels (as in :func:`from_model_responses`) and unit names.

    Returns
    -------
    neo.Block
        One segment ``"model"`` with ``U`` spike trains (ms) and the ``"stimulus"`` epoch.
    """
    import neo
    import quantities as pq
    import xarray as xr

    from ._align import to_ms

    if isinstance(responses, np.ndarray):
        responses = from_model_responses(responses, "latency", n_steps=n_steps, stimulus_labels=stimulus_labels, unit_names=unit_names)
    elif not isinstance(responses, xr.DataArray):
        raise TypeError(f"responses must be a (stimulus, unit, time) DataArray or a (S, U) int32 time map, got {type(responses).__name__}")
    if responses.dims != ("stimulus", "unit", "time"):
        raise ValueError(f"responses must have dims ('stimulus', 'unit', 'time'), got {responses.dims}")
    if step_duration is None:
        if "bin_size_ms" not in responses.attrs:
            raise ValueError("give step_duration= (e.g. 1 * pq.ms): responses has no attrs['bin_size_ms']")
        dt = float(responses.attrs["bin_size_ms"])
    else:
        dt = float(to_ms(step_duration, "step_duration", time_unit))
    if not dt > 0:
        raise ValueError(f"step_duration must be > 0, got {step_duration!r}")
    counts = np.asarray(responses.values)
    if not np.isfinite(counts).all() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("responses must hold non-negative whole spike counts per step")
    counts = counts.astype(np.int64)
    n_stim, n_units, n_time = counts.shape
    names = [str(v) for v in responses.coords["unit"].values]
    block = neo.Block(name=str(responses.name or "model"), source="model", step_ms=dt)
    seg = neo.Segment(name="model")
    block.segments.append(seg)
    t_stop = n_stim * n_time * dt
    for u in range(n_units):
        s_idx, t_idx = np.nonzero(counts[:, u, :])
        times = np.repeat((s_idx * n_time + t_idx) * dt, counts[s_idx, u, t_idx])
        seg.spiketrains.append(neo.SpikeTrain(np.sort(times) * pq.ms, t_start=0 * pq.ms, t_stop=t_stop * pq.ms, name=names[u], step_ms=dt))
    starts = np.arange(n_stim) * n_time * dt
    arr_ann = {}
    for key, coord in responses.coords.items():
        if coord.dims == ("stimulus",) and key != "stimulus":
            v = np.asarray(coord.values)
            arr_ann[key] = v.astype(str) if v.dtype.kind in "OUS" else v
    arr_ann["stimulus_index"] = np.arange(n_stim)
    arr_ann["trial_start_ms"] = starts
    arr_ann["trial_stop_ms"] = starts + n_time * dt
    labels = arr_ann.get("label", np.arange(n_stim).astype(str))
    seg.epochs.append(
        neo.Epoch(times=starts * pq.ms, durations=np.full(n_stim, n_time * dt) * pq.ms, labels=np.asarray(labels).astype(str), name="stimulus", array_annotations=arr_ann)
    )
    block.check_relationships()
    return block
