"""`workbench reproduce`: run the pipelines in analyses/ (see issue 7)."""

import argparse


def register(subparsers) -> None:
    """Add ``reproduce`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "reproduce",
        help="run the model-vs-brain pipelines and write figures/",
        description="Run the model-vs-brain pipelines in analyses/ and write figures/.",
    )
    p.add_argument("names", nargs="*", help="pipelines to run (default: all)")
    p.add_argument("--quick", action="store_true", help="run every pipeline on a small subset")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    raise RuntimeError("`workbench reproduce` has no pipelines yet (issue 7 is open)")
