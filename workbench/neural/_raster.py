"""Reader for the "raster format" of the Zhang-Desimone IT data (NeuroDecodeR layout) into Neo.

One MATLAB file per unit holds

- ``raster_data``: ``(n_trials, n_bins)`` spike counts in 1 ms bins (uint8);
- ``raster_labels``: a struct of per-trial label vectors (``stimulus_ID``,
  ``stimulus_position``, ``combined_ID_position``);
- ``raster_site_info``: a struct of per-unit scalars (``session_ID``,
  ``recording_channel``, ``unit``, ``alignment_event_time``; the last is the 1-based bin
  of stimulus onset, 501).

(Format: Meyers, "The Neural Decoding Toolbox", Front. Neuroinform. 2013; data: Zhang et
al., PNAS 2011.)

In Neo, each file becomes one :class:`neo.Segment` (units were recorded in different
sessions, so they do not share a clock or trials) holding

- one :class:`neo.SpikeTrain` over the concatenated trials: trial ``i`` occupies
  ``[i * n_bins, (i + 1) * n_bins)`` ms, and a count ``c`` in bin ``b`` (0-based) becomes
  ``c`` spikes at ``i * n_bins + b + 0.5`` ms (the bin centre: a raster only says which
  millisecond, and the centre makes re-binning on the 1 ms grid exact);
- one :class:`neo.Epoch` named ``"stimulus"`` with one entry per trial starting at stimulus
  onset (``alignment_event_time - 1`` ms into the trial) and lasting to the end of the
  recorded trial (the presentation duration is not in the file); its ``labels`` are the
  ``combined_ID_position`` labels and its array annotations carry every label field plus
  ``trial``, ``trial_start_ms`` and ``trial_stop_ms`` (the latter two let :func:`align`
  refuse windows that would reach into a neighbouring trial).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import quantities as pq

__all__ = ["read_raster", "is_raster_file", "raster_files_in"]

_SUFFIX = "_raster_data"


def is_raster_file(path: str | Path) -> bool:
    """True if ``path`` is a MATLAB file with a ``raster_data`` variable."""
    import scipy.io

    path = Path(path)
    if path.suffix.lower() != ".mat" or not path.is_file():
        return False
    if path.stem.endswith(_SUFFIX):
        return True  # the layout's naming convention; the reader still checks the variables
    try:
        names = {entry[0] for entry in scipy.io.whosmat(str(path))}
    except Exception:  # not a MATLAB file scipy understands: let Neo try
        return False
    return "raster_data" in names


def raster_files_in(folder: str | Path) -> list[Path]:
    """The raster ``.mat`` files of a folder, sorted by name."""
    return sorted(p for p in Path(folder).glob("*.mat") if is_raster_file(p))


def _strings(field) -> np.ndarray:
    """A MATLAB cell array of strings (as loaded by scipy) as a 1-D array of str."""
    flat = np.ravel(field)
    out = []
    for item in flat:
        while isinstance(item, np.ndarray) and item.dtype == object and item.size == 1:
            item = item.item()
        if isinstance(item, np.ndarray):
            item = item.item() if item.size == 1 else "".join(map(str, np.ravel(item)))
        out.append(str(item))
    return np.asarray(out, dtype=str)


def _site_value(field):
    value = np.ravel(field)
    if value.size != 1:
        return np.asarray(value).tolist()
    value = value[0]
    if isinstance(value, np.ndarray):
        return _site_value(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read_one(path: Path):
    import neo
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:
        raise ValueError(f"could not read raster file {path}: {exc}") from exc
    for key in ("raster_data", "raster_labels"):
        if key not in mat:
            raise ValueError(f"raster file {path} has no {key!r} variable (has: {', '.join(k for k in mat if not k.startswith('__'))})")
    raster = np.asarray(mat["raster_data"])
    if raster.ndim != 2 or raster.shape[0] < 1 or raster.shape[1] < 1:
        raise ValueError(f"raster_data in {path} must be a non-empty (trials, bins) matrix, got shape {raster.shape}")
    if raster.dtype.kind not in "biuf" or (raster.dtype.kind == "f" and not np.isfinite(raster).all()):
        raise ValueError(f"raster_data in {path} must hold finite counts, got dtype {raster.dtype}")
    counts = raster.astype(np.int64)
    if (counts != raster).any() or (counts < 0).any():
        raise ValueError(f"raster_data in {path} must hold non-negative integer counts")
    n_trials, n_bins = counts.shape

    labels_struct = mat["raster_labels"]
    labels = {}
    for field in labels_struct.dtype.names or ():
        values = _strings(labels_struct[field][0, 0])
        if values.shape != (n_trials,):
            raise ValueError(f"raster_labels.{field} in {path} has {values.size} entries for {n_trials} trials")
        labels[field] = values
    if not labels:
        raise ValueError(f"raster_labels in {path} has no label fields")

    site = {}
    if "raster_site_info" in mat:
        info = mat["raster_site_info"]
        for field in info.dtype.names or ():
            site[field] = _site_value(info[field][0, 0])
    onset_bin = int(site.get("alignment_event_time", 1))  # 1-based bin of the alignment event
    if not 1 <= onset_bin <= n_bins:
        raise ValueError(f"alignment_event_time {onset_bin} in {path} is outside 1..{n_bins}")

    name = path.stem[: -len(_SUFFIX)] if path.stem.endswith(_SUFFIX) else path.stem
    trial_idx, bin_idx = np.nonzero(counts)
    reps = counts[trial_idx, bin_idx]
    times = np.repeat(trial_idx * n_bins + bin_idx + 0.5, reps).astype(np.float64)
    train = neo.SpikeTrain(
        times * pq.ms,
        t_start=0 * pq.ms,
        t_stop=n_trials * n_bins * pq.ms,
        name=name,
        file_origin=str(path),
        bin_size_ms=1.0,
        n_trials=n_trials,
        **site,
    )
    trial = np.arange(n_trials)
    onset = trial * n_bins + (onset_bin - 1)
    label_key = "combined_ID_position" if "combined_ID_position" in labels else next(iter(labels))
    epoch = neo.Epoch(
        times=onset.astype(np.float64) * pq.ms,
        durations=np.full(n_trials, n_bins - (onset_bin - 1), dtype=np.float64) * pq.ms,
        labels=labels[label_key],
        name="stimulus",
        description="stimulus onset of each trial (raster alignment_event_time)",
        array_annotations={
            **labels,
            "trial": trial,
            "trial_start_ms": (trial * n_bins).astype(np.float64),
            "trial_stop_ms": ((trial + 1) * n_bins).astype(np.float64),
        },
    )
    segment = neo.Segment(name=name, file_origin=str(path), **{k: v for k, v in site.items() if k == "session_ID"})
    segment.spiketrains.append(train)
    segment.epochs.append(epoch)
    return segment


def read_raster(paths: str | Path | Sequence[str | Path], *, name: str | None = None):
    """Read raster-format ``.mat`` files (one unit each) into one :class:`neo.Block`.

    Parameters
    ----------
    paths : path or sequence of paths
        One raster file, a folder (all its raster files, sorted by name), or a list of files.
    name : str, optional
        Block name (default: the folder's name).

    Returns
    -------
    neo.Block
        One segment per unit, each with one spike train (ms, concatenated trials) and a
        ``"stimulus"`` epoch carrying the trial labels; see the module docstring.

    Raises
    ------
    FileNotFoundError
        A path does not exist or a folder holds no raster file.
    ValueError
        A file is not in the raster format (names what is missing).
    """
    import neo

    if isinstance(paths, (str, Path)):
        root = Path(paths)
        if not root.exists():
            raise FileNotFoundError(f"no such file or folder: {root}")
        files = raster_files_in(root) if root.is_dir() else [root]
        if root.is_dir() and not files:
            raise FileNotFoundError(f"no raster .mat files (with a raster_data variable) in {root}")
        default_name = root.name if root.is_dir() else root.stem
    else:
        files = [Path(p) for p in paths]
        if not files:
            raise ValueError("paths is empty: give at least one raster file")
        default_name = files[0].parent.name
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"no such raster file: {f}")
    block = neo.Block(name=name or default_name, file_origin=str(paths if isinstance(paths, (str, Path)) else files[0].parent), format="raster (NeuroDecodeR)")
    for f in files:
        block.segments.append(_read_one(f))
    block.check_relationships()
    return block
