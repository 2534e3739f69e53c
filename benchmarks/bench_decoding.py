"""Benchmark: time-resolved pseudo-population decoding of the Zhang-Desimone IT units.

132 IT units (7 objects), spike counts in 50 ms windows stepped by 10 ms over the whole
1 s trial, 10-fold cross-validation, ``--resamples`` pseudo-populations (default 100), by
default the maximum-correlation-coefficient classifier with z-scoring (Meyers' toolbox
default).

Two implementations on identical splits (both consume
:func:`workbench.decoding.pseudo_splits` with the same seed):

- ``workbench``: :func:`workbench.decoding.decode` (templates and correlations of all time
  bins in batched matrix products);
- ``sklearn loop``: a plain loop over splits and time bins fitting
  ``Pipeline([StandardScaler(), classifier])`` per bin (``--classifier mcc``:
  :class:`~workbench.decoding.MaxCorrelationClassifier`; ``lda``:
  ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")``).

Prints a table and, as the last line, a JSON object.  Usage::

    python benchmarks/bench_decoding.py [--resamples 100] [--baseline-resamples N] [--mirror DIR]
                                        [--permutations P --null-resamples R]

``--baseline-resamples`` runs the (slow) loop on fewer resamples and scales its time
linearly (the work per resample is constant); accuracies are then compared on those
resamples only.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import time
from pathlib import Path

import numpy as np
import xarray as xr


def load_units(folder: Path, width: int = 50, step: int = 10) -> list[xr.DataArray]:
    """Per-unit spike counts in sliding windows; time = window centre relative to onset (ms)."""
    import scipy.io as sio

    files = sorted(glob.glob(str(folder / "*raster_data.mat")))
    if not files:
        raise SystemExit(f"no Zhang-Desimone .mat files in {folder}")
    units = []
    for f in files:
        m = sio.loadmat(f)
        raster = m["raster_data"]  # (trial, 1000), 1 ms bins, onset at index 500
        labels = np.array([str(x[0]) for x in m["raster_labels"]["stimulus_ID"][0, 0].ravel()])
        starts = np.arange(0, raster.shape[1] - width + 1, step)
        csum = np.concatenate([np.zeros((raster.shape[0], 1)), np.cumsum(raster, axis=1, dtype=np.float64)], axis=1)
        counts = csum[:, starts + width] - csum[:, starts]
        centre = starts + width / 2.0 - 500.0
        units.append(xr.DataArray(counts, dims=("trial", "time"),
                                  coords={"label": ("trial", labels), "time": ("time", centre, {"units": "ms"})}))
    return units


def sklearn_loop(units, n_splits: int, n_resamples: int, seed: int, classifier: str = "mcc") -> np.ndarray:
    from sklearn.base import clone

    from workbench.decoding import make_classifier, pseudo_splits

    template = make_classifier(classifier, zscore=True)  # Pipeline([StandardScaler(), classifier])

    accs = []
    for Xtr, ytr, Xte, yte in pseudo_splits(units, n_splits=n_splits, n_repeats=n_resamples, seed=seed):
        row = np.empty(Xtr.shape[2])
        for t in range(Xtr.shape[2]):
            est = clone(template).fit(Xtr[:, :, t], ytr)
            row[t] = np.mean(est.predict(Xte[:, :, t]) == yte)
        accs.append(row)
    return np.asarray(accs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_mirror = os.environ.get("WORKBENCH_MIRROR", str(Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--mirror", default=default_mirror)
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--baseline-resamples", type=int, default=None)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--classifier", choices=("mcc", "lda"), default="mcc",
                        help="mcc: max-correlation (Meyers' default); lda: shrinkage LDA")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--permutations", type=int, default=0,
                        help="also run a label-shuffle test (cluster-corrected) and report the onset latency")
    parser.add_argument("--null-resamples", type=int, default=5, help="resamples per run of the shuffle test")
    args = parser.parse_args()

    from workbench.decoding import decode

    t0 = time.perf_counter()
    units = load_units(Path(args.mirror) / "zhang_desimone_7object_IT")
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    ours = decode(units, classifier=args.classifier, n_splits=args.folds, n_repeats=args.resamples, seed=args.seed,
                  keep_splits=True)
    t_ours = time.perf_counter() - t0

    nb = args.baseline_resamples or args.resamples
    t0 = time.perf_counter()
    base = sklearn_loop(units, args.folds, nb, args.seed, args.classifier)
    t_base_run = time.perf_counter() - t0
    t_base = t_base_run * args.resamples / nb
    max_diff = float(np.abs(ours.values[: base.shape[0]] - base).max())

    mean = ours.mean("split")
    peak_t = float(mean["time"].values[int(np.argmax(mean.values))])
    n_time = ours.sizes["time"]
    print(f"Zhang-Desimone IT: {len(units)} units, 7 objects, {n_time} windows (50 ms, 10 ms steps), "
          f"{args.folds}-fold, {args.resamples} resamples, {args.classifier} + z-score; load {t_load:.2f} s")
    print(f"{'implementation':<16}{'seconds':>10}{'ratio':>8}")
    print(f"{'sklearn loop':<16}{t_base:>10.2f}{1.0:>8.1f}" + ("" if nb == args.resamples else f"   (ran {nb} resamples in {t_base_run:.2f} s, scaled)"))
    print(f"{'workbench':<16}{t_ours:>10.2f}{t_base / t_ours:>8.1f}")
    print(f"max |accuracy difference| on shared splits: {max_diff:.2e}")
    win = mean.sel(time=slice(50, 350))
    print(f"peak accuracy {float(mean.max()):.3f} at {peak_t:.0f} ms; mean over windows centred 50-350 ms {float(win.mean()):.3f}; chance {1 / 7:.3f}")
    extra = {}
    if args.permutations > 0:
        from workbench.decoding import onset_latency, permutation_test

        t0 = time.perf_counter()
        res = permutation_test(units, classifier=args.classifier, n_splits=args.folds, n_repeats=args.null_resamples, seed=args.seed,
                               n_permutations=args.permutations, correction="cluster")
        t_perm = time.perf_counter() - t0
        onset = onset_latency(res, min_run=3)
        null = res["null"].values
        print(f"shuffle test: {args.permutations} permutations x {args.null_resamples} resamples in {t_perm:.1f} s; "
              f"null mean {null.mean():.3f} (chance {1 / 7:.3f}); onset latency (first of 3 consecutive "
              f"cluster-significant windows, window centre) {onset:.0f} ms")
        extra = {"permutations": args.permutations, "seconds_permutation_test": round(t_perm, 2),
                 "null_mean": round(float(null.mean()), 4), "onset_latency_ms": onset}
    print(json.dumps({
        "benchmark": "decoding_pseudo_population_time_resolved",
        "classifier": args.classifier, "units": len(units), "time_bins": int(n_time), "folds": args.folds, "resamples": args.resamples,
        "baseline_resamples": nb, "seconds_workbench": round(t_ours, 4), "seconds_sklearn_loop": round(t_base, 4),
        "ratio": round(t_base / t_ours, 2), "max_abs_accuracy_diff": max_diff,
        "peak_accuracy": round(float(mean.max()), 4), "peak_time_ms": peak_t, **extra,
    }))


if __name__ == "__main__":
    main()
