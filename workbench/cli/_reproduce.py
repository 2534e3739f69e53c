"""`workbench reproduce`: run the model-vs-brain pipelines in analyses/ and write figures/."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    """Add ``reproduce`` to the ``workbench`` parser."""
    p = subparsers.add_parser(
        "reproduce",
        help="run the model-vs-brain pipelines and write figures/",
        description=(
            "Run the pipelines in analyses/ (all by default) and write every figure to OUT "
            "(PNG and PDF) plus OUT/summary.md with each figure's key numbers and the data it came "
            "from. Intermediate results are cached (OUT/.cache): re-running skips what is done and "
            "still valid. Data sets are checked before anything starts; set WORKBENCH_MIRROR to a "
            "local mirror or run `workbench data fetch NAME` first."
        ),
    )
    p.add_argument("names", nargs="*", help="pipelines to run (default: all); see --list")
    p.add_argument("--quick", action="store_true", help="small subsets, minutes instead of hours (what CI runs)")
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--list", action="store_true", help="list the pipelines and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    p.set_defaults(handler=_run)


def pipelines_package():
    """The ``analyses`` package: the checkout's folder, else the copy shipped in the wheel."""
    checkout = Path(__file__).resolve().parents[2] / "analyses"
    shipped = Path(__file__).resolve().parents[1] / "_analyses"
    folder = checkout if (checkout / "__init__.py").exists() else shipped
    if not (folder / "__init__.py").exists():
        raise RuntimeError(f"the analyses pipelines are missing (looked in {checkout} and {shipped})")
    if "analyses" not in sys.modules or Path(sys.modules["analyses"].__file__).parent != folder:
        spec = importlib.util.spec_from_file_location("analyses", folder / "__init__.py",
                                                      submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["analyses"] = module
        spec.loader.exec_module(module)
    return sys.modules["analyses"]


def _package_digest() -> bytes:
    """sha256 over the installed package's code: Python modules, compiled kernels, CUDA sources."""
    import hashlib

    from .. import __file__ as package_init

    package = Path(package_init).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".so", ".pyd", ".cu", ".cuh", ".toml")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.digest()


def code_version(module, package_digest: bytes | None = None) -> str:
    """Fingerprint of a pipeline's code: the pipeline's own source (plus the shared
    ``_common`` module) and the whole installed package -- its Python modules, compiled
    kernels and CUDA sources -- so that a change anywhere in the simulator or the analysis
    layer (a kernel fix, say) invalidates what older code cached, even at the same version.
    ``package_digest`` (from :func:`_package_digest`) lets a run over several pipelines
    read the package once."""
    import hashlib

    digest = hashlib.sha256(_package_digest() if package_digest is None else package_digest)
    folder = Path(module.__file__).parent
    for path in (Path(module.__file__), folder / "_common.py"):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _check_data(modules) -> None:
    from .. import datasets

    missing = []
    for name, module in modules:
        for ds in getattr(module, "DATASETS", ()):
            try:
                datasets.ensure(ds)
            except Exception as exc:  # noqa: BLE001 - report every missing set at once
                missing.append(f"  {ds} (needed by {name}): {str(exc).splitlines()[0]}")
    if missing:
        raise FileNotFoundError(
            "data sets are missing or unverified:\n" + "\n".join(sorted(set(missing)))
            + "\nSet WORKBENCH_MIRROR to a local mirror (e.g. ../shared/datasets) or run "
            "`workbench data fetch NAME` for each, then run again."
        )


def _summary(out: Path, results: list, quick: bool, seconds: float) -> Path:
    lines = ["# workbench reproduce: summary", ""]
    lines.append(f"Mode: {'quick (small subsets)' if quick else 'full'}; wall time {seconds / 60:.1f} min.")
    lines.append("")
    for name, title, res, secs in results:
        lines += [f"## {title}", "", f"Pipeline `analyses/{name}.py` ({secs:.0f} s); data: {', '.join(res.data) or '-'}.", ""]
        if res.numbers:
            lines += ["| key number | value | range check | meaning |", "|---|---|---|---|"]
            for n in res.numbers:
                lines.append(f"| {n.name} | {n.value:.4g} | {'ok' if n.ok() else 'OUT OF RANGE'} "
                             f"[{n.valid_range[0]:g}, {n.valid_range[1]:g}] | {n.description} |")
            lines.append("")
        for fig in res.figures:
            lines.append(f"- ![{fig.stem}]({fig.stem}.png) `{fig.stem}.png` / `.pdf`: {fig.caption}")
        for note in res.notes:
            lines.append(f"- Note: {note}")
        lines.append("")
    path = out / "summary.md"
    path.write_text("\n".join(lines))
    return path


def _run(args: argparse.Namespace) -> int:
    analyses = pipelines_package()
    from importlib import import_module

    if args.list:
        for name in analyses.PIPELINES:
            print(f"{name}: {import_module(f'analyses.{name}').TITLE}")
        return 0
    names = args.names or list(analyses.PIPELINES)
    unknown = [n for n in names if n not in analyses.PIPELINES]
    if unknown:
        raise ValueError(f"unknown pipeline(s) {', '.join(unknown)}; known: {', '.join(analyses.PIPELINES)}")
    modules = [(n, import_module(f"analyses.{n}")) for n in names]
    _check_data(modules)
    common = import_module("analyses._common")
    out: Path = args.out
    t_all = time.perf_counter()
    results = []
    package_digest = _package_digest()  # read once for every pipeline
    for i, (name, module) in enumerate(modules, 1):
        print(f"[{i}/{len(modules)}] {name}: {module.TITLE}", flush=True)
        ctx = common.Context(out_dir=out, cache_dir=out / ".cache" / ("quick" if args.quick else "full") / name,
                             quick=args.quick, seed=args.seed, progress=not args.no_progress,
                             code_version=code_version(module, package_digest))
        t0 = time.perf_counter()
        result = module.run(ctx)
        secs = time.perf_counter() - t0
        results.append((name, module.TITLE, result, secs))
        bad = [n.name for n in result.numbers if not n.ok()]
        print(f"    done in {secs:.0f} s: {len(result.figures)} figures"
              + (f"; OUT OF RANGE: {', '.join(bad)}" if bad else ""), flush=True)
    seconds = time.perf_counter() - t_all
    summary = _summary(out, results, args.quick, seconds)
    numbers = {name: {n.name: n.value for n in res.numbers} for name, _, res, _ in results}
    (out / "summary.json").write_text(json.dumps({"quick": args.quick, "seconds": seconds, "numbers": numbers}, indent=2))
    print(f"wrote {summary} ({seconds / 60:.1f} min)")
    bad_any = any(not n.ok() for _, _, res, _ in results for n in res.numbers)
    return 3 if bad_any else 0
