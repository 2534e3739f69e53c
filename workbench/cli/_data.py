"""`workbench data`: list, fetch, verify and describe the registered data sets."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Manage the data sets of the registry.

  workbench data list                      every data set and where it is available
  workbench data info NAME                 description, licence, citation, sources
  workbench data fetch NAME [NAME ...]     download into the cache and verify sha256
  workbench data fetch NAME --mirror DIR   copy from a local mirror (same code path)
  workbench data verify NAME               re-hash every file, report bad ones by name

The cache is $WORKBENCH_DATA (default ~/.cache/workbench).  A mirror folder
($WORKBENCH_MIRROR or --mirror DIR) holds <folder>/<file> as in the cache; loaders use
a verified mirror in place, without copying.
"""


def register(subparsers) -> None:
    """Add ``data`` and its sub-commands to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "data",
        help="list, fetch and verify data sets",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=lambda args: _help(p))
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")

    q = sub.add_parser("list", help="list the registered data sets")
    q.set_defaults(handler=_list)

    q = sub.add_parser("info", help="show a data set's description, licence and citation")
    q.add_argument("name")
    q.set_defaults(handler=_info)

    q = sub.add_parser("fetch", help="download data sets into the cache and verify them")
    q.add_argument("names", nargs="+", metavar="NAME", help="data set name(s), or 'all'")
    q.add_argument("--mirror", metavar="DIR", help="copy from this mirror folder or URL (default $WORKBENCH_MIRROR)")
    q.add_argument("--upstream", action="store_true", help="ignore $WORKBENCH_MIRROR and download from upstream")
    q.add_argument("--cache", metavar="DIR", help="cache folder (default $WORKBENCH_DATA or ~/.cache/workbench)")
    q.add_argument("--force", action="store_true", help="download again even if a verified copy exists")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.add_argument("--workers", type=int, default=4, help="concurrent downloads (default 4)")
    q.set_defaults(handler=_fetch)

    q = sub.add_parser("verify", help="re-hash a data set and report missing or corrupt files")
    q.add_argument("names", nargs="+", metavar="NAME", help="data set name(s), or 'all'")
    q.add_argument("--mirror", metavar="DIR", help="verify this mirror folder instead of the cache")
    q.add_argument("--cache", metavar="DIR", help="verify this cache folder")
    q.set_defaults(handler=_verify)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _names(names: list[str]) -> list[str]:
    from ..datasets import dataset_names, get_dataset

    if names == ["all"]:
        return dataset_names()
    return [get_dataset(n).name for n in names]


def _list(args: argparse.Namespace) -> int:
    from ..datasets import cache_root, load_registry, mirror_root

    cache, mirror = cache_root(), mirror_root()
    rows = []
    for name, ds in sorted(load_registry().items()):
        # Presence only (cheap); `workbench data verify` does the hashing.
        where = [label for label, root in (("cache", cache), ("mirror", mirror)) if root and (root / ds.folder).is_dir()]
        rows.append((name, str(len(ds.files)), ",".join(where) or "-", ds.title))
    widths = [max(len(r[i]) for r in rows + [("NAME", "FILES", "LOCAL", "")]) for i in range(3)]
    print(f"{'NAME':<{widths[0]}}  {'FILES':>{widths[1]}}  {'LOCAL':<{widths[2]}}  DESCRIPTION")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    print(f"\ncache: {cache}\nmirror: {mirror if mirror else '(WORKBENCH_MIRROR not set)'}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from ..datasets import get_dataset

    ds = get_dataset(args.name)
    print(f"{ds.name}: {ds.title}")
    print(f"folder:   {ds.folder}/ ({len(ds.files)} files)")
    print(f"licence:  {ds.licence}")
    print(f"citation: {ds.citation}")
    print(f"homepage: {ds.homepage}")
    for s in ds.sources:
        print(f"source:   {s}")
    if ds.note:
        print(f"note:     {ds.note}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from ..datasets import fetch

    if args.upstream and args.mirror:
        raise ValueError("--upstream and --mirror exclude each other")
    for name in _names(args.names):
        folder = fetch(
            name,
            mirror=args.mirror,
            upstream=args.upstream,
            cache=args.cache,
            force=args.force,
            progress=not args.no_progress,
            workers=args.workers,
        )
        print(f"{name}: verified in {folder}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..datasets import verify

    if args.mirror and args.cache:
        raise ValueError("--mirror and --cache exclude each other")
    status = 0
    for name in _names(args.names):
        report = verify(name, root=args.mirror or args.cache)
        print(report.summary())
        if not report.ok:
            status = 1
    return status
