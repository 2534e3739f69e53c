"""Reading NWB files through pynwb into Neo, for files that Neo's own NWB reader rejects.

Neo's :class:`neo.io.NWBIO` assumes columns that only Neo-written files have (for
example it asks every unit for ``obs_intervals`` and fails with ``KeyError`` on many
third-party files).  This module reads the units table and every time-interval table
with pynwb and builds the same Neo structure by hand:

- one :class:`neo.Segment` holding everything (NWB has one session clock);
- one :class:`neo.SpikeTrain` per row of the units table, named after the unit's
  ``id`` (or its ``unit_name`` column if present), with every other column of the table
  as an annotation (NWB containers such as electrode groups become their name);
- one :class:`neo.Epoch` per time-interval table (``epochs``, ``trials``,
  ``invalid_times`` and any custom table), named after the table, with every column
  as an array annotation (ragged columns such as ``tags`` are joined with ``","``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import quantities as pq

__all__ = ["read_nwb_with_pynwb"]

# Columns that are the data itself, not metadata.
_UNIT_DATA_COLUMNS = {"spike_times", "obs_intervals"}
_INTERVAL_TIME_COLUMNS = {"start_time", "stop_time"}


def _scalar(value):
    """One cell of an NWB table as a plain, Neo-annotatable Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "name") and hasattr(value, "object_id"):
        # An NWB container (ElectrodeGroup, Device...): its name is what identifies it.
        return str(value.name)
    if hasattr(value, "to_numpy"):  # pandas objects from DynamicTableRegion cells
        return np.asarray(value.index.to_numpy() if hasattr(value, "index") else value.to_numpy())
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray([_scalar(v) for v in value]) if len(value) else np.asarray([])
        return arr
    return str(value)


def _column_values(table, column: str, n_rows: int) -> list:
    col = table[column]
    return [_scalar(col[i]) for i in range(n_rows)]


def _as_array_annotation(values: list) -> np.ndarray:
    """A column as a 1-D array that Neo accepts as an array annotation."""
    if all(isinstance(v, (int, float, bool, str)) for v in values):
        return np.asarray(values)
    # Ragged or nested cells (e.g. ``tags``): one string per row.
    return np.asarray([",".join(map(str, np.ravel(v))) if isinstance(v, np.ndarray) else str(v) for v in values])


def read_nwb_with_pynwb(path: str | Path):
    """Read the spike trains and interval tables of an NWB file with pynwb.

    Parameters
    ----------
    path : str or Path
        An NWB (HDF5) file.

    Returns
    -------
    neo.Block
        One segment, ``n_units`` spike trains (seconds), one epoch per interval table.
    """
    import neo
    import pynwb

    path = Path(path)
    with warnings.catch_warnings(), pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
        # Files written by older pynwb versions trigger deprecation notes about their fields.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        nwb = io.read()
        block = neo.Block(
            name=str(nwb.identifier),
            description=str(nwb.session_description or ""),
            file_origin=str(path),
            session_start_time=nwb.session_start_time,
            identifier=str(nwb.identifier),
            reader="pynwb",
        )
        segment = neo.Segment(name=str(nwb.identifier), file_origin=str(path))
        block.segments.append(segment)

        trains: list[tuple[str, np.ndarray, dict, tuple | None]] = []
        units = nwb.units
        if units is not None and len(units) > 0:
            n = len(units)
            ids = [int(i) for i in units.id[:]]
            columns = [c for c in units.colnames if c not in _UNIT_DATA_COLUMNS]
            meta = {c: _column_values(units, c, n) for c in columns}
            has_obs = "obs_intervals" in units.colnames
            for row in range(n):
                times = np.asarray(units["spike_times"][row], dtype=np.float64)
                ann = {"id": ids[row], **{c: meta[c][row] for c in columns}}
                obs = None
                if has_obs:
                    intervals = np.asarray(units["obs_intervals"][row], dtype=np.float64).reshape(-1, 2)
                    if intervals.size:
                        obs = (float(intervals.min()), float(intervals.max()))
                name = str(ann["unit_name"]) if "unit_name" in ann else str(ids[row])
                trains.append((name, np.sort(times), ann, obs))

        epochs = []
        for table_name, table in (nwb.intervals or {}).items():
            n = len(table)
            start = np.asarray(table["start_time"][:], dtype=np.float64)
            stop = np.asarray(table["stop_time"][:], dtype=np.float64)
            arr_ann = {"id": np.asarray(table.id[:], dtype=np.int64)}
            for col in table.colnames:
                if col in _INTERVAL_TIME_COLUMNS:
                    continue
                arr_ann[col] = _as_array_annotation(_column_values(table, col, n))
            labels = arr_ann["tags"] if "tags" in arr_ann else np.asarray([""] * n)
            epochs.append((str(table_name), start, stop, labels, arr_ann, str(getattr(table, "description", ""))))

    # One clock for the whole segment: from 0 (session start) to the last thing recorded.
    ends = [0.0]
    starts = [0.0]
    for _, times, _, obs in trains:
        if times.size:
            ends.append(float(times[-1]))
            starts.append(float(times[0]))
        if obs is not None:
            ends.append(obs[1])
            starts.append(obs[0])
    for _, start, stop, *_ in epochs:
        if start.size:
            ends.append(float(stop.max()))
            starts.append(float(start.min()))
    t_start, t_stop = min(starts), max(ends)

    for name, times, ann, obs in trains:
        # A unit's own observation interval when it covers its spikes, else the session span.
        t0, t1 = t_start, t_stop
        if obs is not None and (times.size == 0 or (obs[0] <= times[0] and times[-1] <= obs[1])):
            t0, t1 = obs
        st = neo.SpikeTrain(times * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s, name=name, file_origin=str(path), **ann)
        segment.spiketrains.append(st)
    for name, start, stop, labels, arr_ann, description in epochs:
        ep = neo.Epoch(
            times=start * pq.s,
            durations=(stop - start) * pq.s,
            labels=labels,
            name=name,
            description=description,
            array_annotations=arr_ann,
        )
        segment.epochs.append(ep)
    block.check_relationships()
    return block
