"""`workbench neural`: convert recordings between formats and summarise them.

The analysis layer is imported inside the handlers so that ``workbench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import warnings

NEURAL_DESCRIPTION = """\
Recordings through Neo: convert them and look inside.

  workbench neural info PATH
      segments, units with spike counts, epochs/events with their label names
  workbench neural convert IN OUT [--format nix|nwb]
      IN is anything `workbench.neural.load` reads: a file Neo reads (NIX, NWB, Spike2,
      Blackrock, ...), an NWB file Neo's own reader rejects (read through pynwb), a
      Zhang-Desimone raster .mat file or a folder of them.
      NIX keeps everything; NWB (Neo's writer) keeps spike times, epochs/events and labels
      but not annotations -- a warning lists what is dropped.
"""


def register(subparsers) -> None:
    """Add ``neural`` (with ``info`` and ``convert``) to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "neural",
        help="convert recordings (NIX/NWB) and summarise them",
        description=NEURAL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="neural_command", metavar="SUBCOMMAND")
    info = sub.add_parser(
        "info",
        help="summarise a recording: segments, units, spike counts, epochs/events",
        description="Print a summary of a recording: segments, units (spike counts), epochs and events with their label names.",
    )
    info.add_argument("path", metavar="PATH", help="a recording file or a folder of raster .mat files")
    info.add_argument("--max-units", type=int, default=20, metavar="N", help="list at most N units per segment (default 20)")
    info.set_defaults(handler=_info)
    conv = sub.add_parser(
        "convert",
        help="convert a recording to NIX (lossless) or NWB",
        description="Convert a recording to NIX (lossless) or NWB (Neo's writer: annotations are dropped, with a warning).",
    )
    conv.add_argument("input", metavar="IN", help="input recording (file or folder of raster .mat files)")
    conv.add_argument("output", metavar="OUT", help="output file (.nix or .nwb)")
    conv.add_argument("--format", choices=("nix", "nwb"), default=None, help="output format (default: from OUT's extension)")
    conv.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    conv.set_defaults(handler=_convert)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def _label_names(obj) -> list[str]:
    names = []
    if len(obj.labels):
        names.append("labels")
    names.extend(obj.array_annotations)
    return names


def summarize(block, max_units: int = 20) -> str:
    """A text summary of a :class:`neo.Block` (what ``workbench neural info`` prints)."""
    lines = [f"block {block.name!r}: {len(block.segments)} segment(s)"]
    n_units = sum(len(s.spiketrains) for s in block.segments)
    n_spikes = sum(len(st) for s in block.segments for st in s.spiketrains)
    lines.append(f"  {n_units} unit(s), {n_spikes} spike(s) in total")
    shown_segments = block.segments if len(block.segments) <= max_units else block.segments[:max_units]
    for i, seg in enumerate(shown_segments):
        lines.append(f"  segment {i} {seg.name!r}: {len(seg.spiketrains)} unit(s), {len(seg.epochs)} epoch(s), {len(seg.events)} event(s)")
        for st in seg.spiketrains[:max_units]:
            dur = float((st.t_stop - st.t_start).rescale("s").magnitude)
            lines.append(f"    unit {st.name!r}: {len(st)} spikes over {dur:g} s")
        if len(seg.spiketrains) > max_units:
            lines.append(f"    ... {len(seg.spiketrains) - max_units} more unit(s)")
        for kind, objs in (("epoch", seg.epochs), ("event", seg.events)):
            for obj in objs:
                labels = ", ".join(_label_names(obj)) or "none"
                lines.append(f"    {kind} {obj.name!r}: {len(obj)} entries; labels: {labels}")
    if len(block.segments) > len(shown_segments):
        lines.append(f"  ... {len(block.segments) - len(shown_segments)} more segment(s)")
    return "\n".join(lines)


def _info(args: argparse.Namespace) -> int:
    from ..neural import load

    if args.max_units < 1:
        raise ValueError(f"--max-units must be >= 1, got {args.max_units}")
    print(summarize(load(args.path), args.max_units))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..neural import NWBLossWarning, load, save

    out = Path(args.output)
    if out.exists() and not args.force:
        raise ValueError(f"{out} exists; pass --force to overwrite it")
    block = load(args.input)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NWBLossWarning)
        save(block, out, format=args.format)
    for w in caught:
        if issubclass(w.category, NWBLossWarning):
            print(f"workbench: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n_units = sum(len(s.spiketrains) for s in block.segments)
    print(f"wrote {out} ({len(block.segments)} segment(s), {n_units} unit(s))")
    return 0
