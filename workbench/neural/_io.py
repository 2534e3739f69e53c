"""Recordings in and out: :func:`load` any file Neo reads (plus NWB via pynwb and raster ``.mat``) and :func:`save` to NIX / NWB.

Reading dispatch, in order:

1. a raster ``.mat`` file (has ``raster_data``) or a folder of them -> :func:`read_raster`;
2. ``.nwb`` -> Neo's :class:`neo.io.NWBIO`; when it fails (common on third-party files,
   e.g. ``KeyError: 'obs_intervals'``), pynwb through :func:`read_nwb_with_pynwb`;
3. ``.nix`` / ``.h5`` -> :class:`neo.io.NixIO` opened read-only;
4. anything else -> the IO that :func:`neo.io.get_io` picks from the file name.

Writing: NIX keeps everything Neo holds (annotations, array annotations, names).  Neo's
NWB writer keeps spike times, epoch/event times and labels and the names of blocks,
segments, spike trains and epochs, but drops every other annotation and renames events
in place; :func:`save` therefore writes a copy of the block and warns with
:class:`NWBLossWarning` listing what the file will not hold.
"""

from __future__ import annotations

import copy
import datetime
import re
import warnings
from pathlib import Path

from .._warnings import WorkbenchWarning
from ._nwb import read_nwb_with_pynwb
from ._raster import is_raster_file, raster_files_in, read_raster

__all__ = ["load", "save", "NWBLossWarning", "supported_formats", "WRITE_FORMATS"]

#: Formats :func:`save` writes, by name, with the file extensions that select them.
WRITE_FORMATS = {"nix": (".nix", ".h5"), "nwb": (".nwb",), "pickle": (".pkl", ".pickle"), "matlab": (".mat",)}


class NWBLossWarning(WorkbenchWarning):
    """Writing NWB through Neo loses information; the message lists what."""


def supported_formats() -> str:
    """One line naming every Neo IO with its file extensions (for error messages)."""
    import neo.io

    parts = [f"{io.__name__} ({', '.join('.' + e for e in io.extensions[:4])}{', ...' if len(io.extensions) > 4 else ''})" for io in neo.io.iolist if io.extensions]
    return "; ".join(parts)


def _restore_nwb_names(block) -> None:
    # Neo's NWB writer stores an event named E in segment S as "S  E i"; undo that so that a
    # round trip keeps the names align() looks up.  Epochs are written under the same
    # scheme by save() (Neo would otherwise merge equally named epochs of several segments).
    for seg in block.segments:
        if not seg.name:
            continue
        pattern = re.compile(re.escape(f"{seg.name}  ") + r"(.*) \d+$")
        for obj in list(seg.events) + list(seg.epochs):
            match = pattern.match(obj.name or "")
            if match:
                obj.name = match.group(1)


def _read_nwb(path: Path, **options):
    import neo.io

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            io = neo.io.NWBIO(str(path), mode="r", **options)
            blocks = io.read_all_blocks()
    except Exception as neo_error:  # Neo's reader only understands Neo-like files
        try:
            return read_nwb_with_pynwb(path)
        except Exception as pynwb_error:
            raise ValueError(
                f"could not read NWB file {path}: Neo's NWBIO failed ({type(neo_error).__name__}: {neo_error}) "
                f"and pynwb failed ({type(pynwb_error).__name__}: {pynwb_error})"
            ) from pynwb_error
    if not blocks:
        return read_nwb_with_pynwb(path)
    block = blocks[0]
    if len(blocks) > 1:
        # Several Neo blocks in one file: merge their segments so nothing is hidden.
        for other in blocks[1:]:
            for seg in list(other.segments):
                block.segments.append(seg)
    for seg in block.segments:
        seg.block = block
    _restore_nwb_names(block)
    block.annotate(reader="neo.io.NWBIO")
    return block


def load(path: str | Path, **options):
    """Read a recording into a :class:`neo.Block`.

    Parameters
    ----------
    path : str or Path
        A file any Neo IO reads (chosen from the name as :func:`neo.io.get_io` does), an NWB
        file (Neo first, pynwb when Neo fails), a raster ``.mat`` file of the Zhang-Desimone
        layout, or a folder of such raster files.
    **options
        Passed to the reader: the Neo IO's constructor for Neo formats, ``name=`` for raster
        files; ``block_index=`` selects a block of a multi-block Neo file (default 0).

    Returns
    -------
    neo.Block
        Spike trains are :class:`neo.SpikeTrain` (loaded, not lazy proxies).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        No Neo IO handles the file name (the message lists the supported formats), or the
        reader failed on the file.
    """
    import neo.io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        files = raster_files_in(path)
        if files:
            return read_raster(files, **{"name": path.name, **options})
    if is_raster_file(path):
        return read_raster(path, **options)
    suffix = path.suffix.lower()
    if suffix == ".nwb":
        return _read_nwb(path, **options)
    block_index = options.pop("block_index", 0)
    if suffix in (".nix", ".h5"):
        try:
            io = neo.io.NixIO(str(path), mode="ro", **options)
        except Exception as exc:
            raise ValueError(f"could not open {path} as NIX: {exc}") from exc
        try:
            blocks = io.read_all_blocks()
        finally:
            io.close()
    else:
        try:
            io = neo.io.get_io(str(path), **options)
        except (OSError, ValueError) as exc:
            # Neo raises ValueError for an unknown extension, OSError when no IO of the
            # extension could open the file.
            raise ValueError(f"no Neo IO can read {path.name!r} ({exc}). Supported formats: {supported_formats()}") from exc
        try:
            blocks = io.read(lazy=False) if hasattr(io, "read") else [io.read_block()]
        except Exception as exc:
            raise ValueError(f"could not read {path} with {type(io).__name__}: {type(exc).__name__}: {exc}") from exc
        finally:
            if hasattr(io, "close"):
                try:
                    io.close()
                except Exception:  # closing a reader that failed to open
                    pass
    if not blocks:
        raise ValueError(f"{path} holds no Neo block")
    if not 0 <= block_index < len(blocks):
        raise ValueError(f"block_index must be in 0..{len(blocks) - 1} for {path}, got {block_index}")
    return blocks[block_index]


def _nwb_losses(block) -> list[str]:
    """What Neo's NWB writer will not keep of ``block`` (one phrase each)."""
    lost = []
    if set(block.annotations) - {"session_start_time"}:
        lost.append(f"block annotations ({', '.join(sorted(set(block.annotations) - {'session_start_time'}))})")
    if "session_start_time" not in block.annotations:
        lost.append("no session_start_time annotation: 1970-01-01T00:00:00Z written instead")
    seg_ann = sorted({k for s in block.segments for k in s.annotations})
    if seg_ann:
        lost.append(f"segment annotations ({', '.join(seg_ann)})")
    st_ann = sorted({k for s in block.segments for st in s.spiketrains for k in st.annotations})
    if st_ann:
        lost.append(f"spike-train annotations ({', '.join(st_ann)})")
    objs = [o for s in block.segments for o in list(s.epochs) + list(s.events)]
    arr = sorted({k for o in objs for k in o.array_annotations})
    if arr:
        lost.append(f"epoch/event array annotations ({', '.join(arr)}); only labels are kept")
    ann = sorted({k for o in objs for k in o.annotations})
    if ann:
        lost.append(f"epoch/event annotations ({', '.join(ann)})")
    if any(s.events for s in block.segments):
        lost.append("event names are rewritten as '<segment>  <name> <i>' (load() restores them)")
    if any(s.analogsignals or s.irregularlysampledsignals for s in block.segments):
        lost.append("analog signal names are rewritten")
    if any(st.waveforms is not None and st.waveforms.size for s in block.segments for st in s.spiketrains):
        lost.append("spike waveforms")
    if any(st.units != block.segments[0].spiketrains[0].units for s in block.segments for st in s.spiketrains) or any(
        str(st.units.dimensionality) != "s" for s in block.segments for st in s.spiketrains
    ):
        lost.append("time units (everything is stored in seconds)")
    return lost


def _prepare_nwb_copy(block):
    out = copy.deepcopy(block)
    if "session_start_time" not in out.annotations:
        out.annotate(session_start_time=datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
    if not out.name:
        out.name = "block"
    for i, seg in enumerate(out.segments):
        if not seg.name:
            seg.name = f"segment{i}"
        for j, epoch in enumerate(seg.epochs):
            # Neo's NWB reader groups epochs by name over the whole file; qualify them by
            # segment as Neo does for events, and undo it on load.
            epoch.name = f"{seg.name}  {epoch.name or 'epoch'} {j}"
    names = [s.name for s in out.segments]
    if len(set(names)) != len(names):
        raise ValueError("NWB needs unique segment names; rename the block's segments first")
    return out


def save(block, path: str | Path, format: str | None = None, *, overwrite: bool = True) -> Path:
    """Write a :class:`neo.Block` to a file.

    Parameters
    ----------
    block : neo.Block
        The recording.
    path : str or Path
        Output file.
    format : {"nix", "nwb", "pickle", "matlab"}, optional
        Default: from the extension (``.nix``/``.h5``, ``.nwb``, ``.pkl``, ``.mat``).
        NIX is lossless; NWB warns (:class:`NWBLossWarning`) about what it drops and never
        modifies ``block`` (a copy is written).
    overwrite : bool
        Replace an existing file (default) or raise :class:`FileExistsError`.

    Returns
    -------
    Path
        The written file.
    """
    import neo
    import neo.io

    if not isinstance(block, neo.Block):
        raise TypeError(f"block must be a neo.Block, got {type(block).__name__}")
    path = Path(path)
    if format is None:
        suffix = path.suffix.lower()
        matches = [name for name, exts in WRITE_FORMATS.items() if suffix in exts]
        if not matches:
            raise ValueError(f"cannot infer the format from {path.name!r}: give format= one of {', '.join(WRITE_FORMATS)} or an extension {', '.join(e for v in WRITE_FORMATS.values() for e in v)}")
        format = matches[0]
    if format not in WRITE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, WRITE_FORMATS))}, got {format!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {path.parent}")
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
        path.unlink()
    if format == "nix":
        io = neo.io.NixIO(str(path), mode="ow")
        try:
            io.write_block(copy.deepcopy(block))  # NixIO tags the objects it writes; keep the caller's clean
        finally:
            io.close()
    elif format == "nwb":
        lost = _nwb_losses(block)
        if lost:
            warnings.warn(f"NWB (Neo's writer) will not keep: {'; '.join(lost)}. Use NIX for a lossless copy.", NWBLossWarning, stacklevel=2)
        out = _prepare_nwb_copy(block)
        with warnings.catch_warnings():
            # pynwb's deprecation notes about what Neo's writer uses are not the user's concern.
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message="AnnotationSeries is deprecated")
            neo.io.NWBIO(str(path), mode="w").write_all_blocks([out])
    elif format == "pickle":
        neo.io.PickleIO(str(path)).write_block(block)
    else:
        neo.io.NeoMatlabIO(str(path)).write_block(block)
    return path
