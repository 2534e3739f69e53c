"""The ``workbench`` command.

Each sub-command group lives in its own private module with a ``register(subparsers)``
function; this module only assembles them.  It is (with ``analyses/``) the one place
allowed to import both the simulator and the analysis layer, and it does so lazily,
inside each command's handler, so that ``workbench --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from .. import __version__

# Sub-command modules, in the order ``--help`` lists them.
_COMMAND_MODULES = ("_reproduce", "_data", "_networks", "_neural")

DESCRIPTION = """\
workbench: fast rank-order-coded spiking networks, compared with the brain.

Main job:
  workbench reproduce          run every model-vs-brain pipeline in analyses/ and
                               write figures/ (PNG, PDF) and figures/summary.md

Data sets are read from a cache (WORKBENCH_DATA) or a local mirror folder
(WORKBENCH_MIRROR, or --mirror DIR); see `workbench data --help`.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        import_module(f".{module_name}", __name__).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, TypeError, RuntimeError) as exc:
        # User-facing errors: one clear line, no traceback.
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
