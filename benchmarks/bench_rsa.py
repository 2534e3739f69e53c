"""Benchmark: workbench.rsa against rsatoolbox 0.3.2 on the same inputs.

Cases (random data, fixed seed):

- ``rdm_correlation``: correlation RDM of 92 conditions x 1000 features.
- ``rdm_correlation_time``: the same with 100 time bins (rsatoolbox ``calc_rdm_movie``).
- ``crossnobis``: 92 conditions x 10 runs (920 trials) x 200 features, with a noise
  precision, leave-one-run-out.
- ``noise_precision``: shrinkage (Schaefer-Strimmer, towards the diagonal) precision from
  920 x 200 residuals (``prec_from_residuals``).
- ``bootstrap``: 1000-sample bootstrap over subjects and conditions of 4 fixed models
  against 12 subject RDMs (92 conditions), Pearson ("corr"), with the noise ceiling in
  every sample (rsatoolbox ``eval_bootstrap``).  rsatoolbox runs ``--baseline-samples``
  samples (default 50) and its time is scaled linearly to 1000 (its work per sample is
  constant); the table says so.
- ``dual_bootstrap``: the same with the dual bootstrap (Schuett et al. 2023: every draw
  evaluated over both factors, subjects only and conditions only, corrected variance;
  rsatoolbox ``eval_dual_bootstrap`` for fixed models), scaled the same way.  Its
  "max |diff|" compares the corrected model variances on rsatoolbox's recorded draws.

The single-bin correlation RDM takes about a millisecond, so it gets 20x the repeats
(``--repeats`` 5: 100 alternating pairs) for a stable median on a shared machine.

Each case also checks that both give the same numbers.  Prints a table and, as its last
line, one JSON object mapping each case to {"workbench_ms", "rsatoolbox_ms"} (medians).
Both libraries run with ``--blas-threads`` BLAS threads (default 1, via threadpoolctl):
on a shared, oversubscribed machine multithreaded OpenBLAS spin-waits and a 92 x 1000
matrix product becomes ~20x slower, which would measure the machine, not the code.

Usage::

    python benchmarks/bench_rsa.py [--repeats 5] [--baseline-samples 50] [--method pearson] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

RS_NAMES = {"pearson": "corr", "cosine": "cosine", "spearman": "spearman"}


def median_ms(fn, repeats: int) -> tuple[float, object]:
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times)), out


def paired_ms(fn_a, fn_b, repeats_a: int, repeats_b: int):
    """Median times of two functions run alternately, so that load changes on a shared
    machine hit both alike.  Returns (ms_a, out_a, ms_b, out_b)."""
    ta, tb = [], []
    out_a = out_b = None
    for i in range(max(repeats_a, repeats_b)):
        if i < repeats_a:
            t0 = time.perf_counter()
            out_a = fn_a()
            ta.append(time.perf_counter() - t0)
        if i < repeats_b:
            t0 = time.perf_counter()
            out_b = fn_b()
            tb.append(time.perf_counter() - t0)
    return 1000 * float(np.median(ta)), out_a, 1000 * float(np.median(tb)), out_b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline-samples", type=int, default=50)
    ap.add_argument("--method", default="pearson", choices=sorted(RS_NAMES))
    ap.add_argument("--blas-threads", type=int, default=1)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.blas_threads):
        run(args)


def run(args) -> None:

    from rsatoolbox.data import Dataset, TemporalDataset
    from rsatoolbox.data.noise import prec_from_residuals
    from rsatoolbox.inference import eval_bootstrap
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs, calc_rdm, calc_rdm_movie

    import workbench.rsa as wr

    rng = np.random.default_rng(0)
    rows = []
    reps = args.repeats

    # --- correlation RDM
    c, p, t = 92, 1000, 100
    x = rng.normal(size=(c, p))
    ds = Dataset(x)
    wb, a, rs, b = paired_ms(lambda: wr.rdm(x, "correlation"), lambda: calc_rdm(ds, "correlation"), 20 * reps, 20 * reps)
    err = np.abs(wr.upper_tri(a.values) - b.get_vectors()[0]).max()
    rows.append(("rdm_correlation", wb, rs, err, ""))

    # --- with time
    xt = rng.normal(size=(c, p, t))
    tds = TemporalDataset(xt, time_descriptors={"time": np.arange(t)})
    wb, a, rs, b = paired_ms(lambda: wr.rdm(xt, "correlation"), lambda: calc_rdm_movie(tds, "correlation"), reps, max(1, reps // 2))
    err = np.abs(wr.upper_tri(a.transpose("time", "condition", "condition_b")) - b.get_vectors()).max()
    rows.append(("rdm_correlation_time", wb, rs, err, ""))

    # --- crossnobis, 10 runs
    n_runs, pf = 10, 200
    labels = np.tile(np.arange(c), n_runs)
    runs = np.repeat(np.arange(n_runs), c)
    trials = np.repeat(rng.normal(size=(1, c, pf)), n_runs, 0).reshape(-1, pf) + rng.normal(size=(c * n_runs, pf))
    resid = rng.normal(size=(c * n_runs, pf))
    prec = prec_from_residuals(resid)
    cds = Dataset(trials, obs_descriptors={"cond": labels, "run": runs})
    wb, a, rs, b = paired_ms(
        lambda: wr.rdm(trials, "crossnobis", labels=labels, runs=runs, noise=prec),
        lambda: calc_rdm(cds, "crossnobis", "cond", noise=prec, cv_descriptor="run"),
        reps,
        reps,
    )
    err = np.abs(wr.upper_tri(a.values) - b.get_vectors()[0]).max()
    rows.append(("crossnobis", wb, rs, err, ""))

    # --- shrinkage noise precision
    wb, a, rs, b = paired_ms(
        lambda: wr.noise_precision(resid, method="shrinkage_diag"),
        lambda: prec_from_residuals(resid, method="shrinkage_diag"),
        reps,
        reps,
    )
    err = np.abs(a - b).max() / np.abs(b).max()
    rows.append(("noise_precision", wb, rs, err, "rel. err"))

    # --- bootstrap with noise ceiling
    n_pairs = c * (c - 1) // 2
    base = rng.normal(size=n_pairs)
    data = base + rng.normal(size=(12, n_pairs))
    models = base + 2 * rng.normal(size=(4, n_pairs))
    n_boot = 1000
    wb, _ = median_ms(lambda: wr.evaluate(models, data, args.method, bootstrap="both", n_bootstrap=n_boot, seed=0), max(1, reps // 2))
    fixed = [ModelFixed(f"m{i}", RDMs(m[None])) for i, m in enumerate(models)]
    nb = args.baseline_samples
    np.random.seed(0)
    rs_part, rres = median_ms(lambda: eval_bootstrap(fixed, RDMs(data), method=RS_NAMES[args.method], N=nb), 1)
    rs = rs_part * n_boot / nb
    # same draws -> same numbers: replay rsatoolbox's draws through workbench
    from workbench.rsa._fastboot import fast_bootstrap

    np.random.seed(0)
    ri, pi = [], []
    for _ in range(nb):
        ri.append(np.random.randint(0, 12, size=12))
        pi.append(np.random.randint(0, c, size=c))
    ev, _ = fast_bootstrap(models, data, args.method, np.array(ri), np.array(pi))
    err = np.nanmax(np.abs(ev - rres.evaluations))
    rows.append(("bootstrap", wb, rs, err, f"rsatoolbox: {nb} samples x {n_boot // nb} (scaled)"))

    # --- dual bootstrap (corrected variance)
    import rsatoolbox.inference.evaluate as rs_eval

    from workbench.rsa import dual_bootstrap_variances
    from workbench.rsa._inference import _bootstrap

    wb, _ = median_ms(lambda: wr.evaluate(models, data, args.method, bootstrap="dual", n_bootstrap=n_boot, seed=0), max(1, reps // 2))
    drawn = []
    original = rs_eval.bootstrap_sample

    def recording(*a, **k):  # rsatoolbox draws between samples too: record its draws
        out = original(*a, **k)
        drawn.append((np.asarray(out[1]), np.asarray(out[2])))
        return out

    rs_eval.bootstrap_sample = recording
    try:
        np.random.seed(0)
        rs_part, rres = median_ms(lambda: rs_eval.eval_dual_bootstrap(fixed, RDMs(data), method=RS_NAMES[args.method], N=nb), 1)
    finally:
        rs_eval.bootstrap_sample = original
    rs = rs_part * n_boot / nb
    ri = np.array([d[0] for d in drawn])
    pi = np.array([d[1] for d in drawn])
    gid = np.arange(data.shape[0])
    runs = [_bootstrap(models, data, args.method, r, q, gid) for r, q in ((ri, pi), (ri, None), (None, pi))]
    ok = np.isfinite(runs[0][0]).all(axis=1)
    var, _, _ = dual_bootstrap_variances([np.concatenate([e[ok], nc[ok]], axis=1) for e, nc in runs], data.shape[0], c)
    err = np.max(np.abs(var - rres.model_var))
    rows.append(("dual_bootstrap", wb, rs, err, f"rsatoolbox: {nb} samples x {n_boot // nb} (scaled); diff of variances"))

    print(f"{'case':<22}{'workbench ms':>14}{'rsatoolbox ms':>15}{'speed-up':>10}{'max |diff|':>12}  note")
    for name, w, r, e, note in rows:
        print(f"{name:<22}{w:>14.2f}{r:>15.2f}{r / w:>9.1f}x{e:>12.1e}  {note}")
    print(json.dumps({name: {"workbench_ms": round(w, 3), "rsatoolbox_ms": round(r, 3)} for name, w, r, _, _ in rows}))


if __name__ == "__main__":
    main()
