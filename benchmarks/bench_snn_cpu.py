"""Mozafari-2019 first-layer STDP training step: workbench vs Spyker, side by side.

The step, on the first 64 MNIST test images (from the data mirror):
6 DoG channels (Mozafari et al. 2019: window 7, std pairs (3/9, 6/9), (6/9, 3/9),
(7/9, 14/9), (14/9, 7/9), (13/9, 26/9), (26/9, 13/9), padding 3) -> rank coding T=15 ->
conv 6->30, kernel 5, padding 2 -> fire at threshold 15 -> pointwise inhibition ->
k-WTA (k=5, radius 3) -> STDP (a+ = 0.004, a- = -0.003, stabilised).

Both systems get the same DoG output (Spyker's) and the same initial weights.  Timed:
Spyker's dense path, Spyker's sparse path, workbench's dense path and workbench's
event-driven path (time maps), each sub-step separately and the full step, as the median
of ``--repeats`` runs.  The thread count is set for both systems (``--threads``).

Usage::

    python benchmarks/bench_snn_cpu.py --threads 1
    python benchmarks/bench_snn_cpu.py --threads 2

Prints a table and, as the last line, a JSON object with ``workbench_ms`` (full
event-driven step), ``workbench_dense_ms``, ``spyker_dense_ms``, ``spyker_sparse_ms``,
per-step medians and ``threads``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

T = 15
THRESHOLD = 15.0
RADIUS = 3
COUNT = 5
A_PLUS, A_MINUS = 0.004, -0.003
DOG_STDS = [(3 / 9, 6 / 9), (6 / 9, 3 / 9), (7 / 9, 14 / 9), (14 / 9, 7 / 9), (13 / 9, 26 / 9), (26 / 9, 13 / 9)]


def load_images(n: int) -> np.ndarray:
    mirror = Path(os.environ.get("WORKBENCH_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    path = mirror / "mnist" / "t10k-images-idx3-ubyte.gz"
    if not path.exists():
        sys.exit(f"MNIST test images not found at {path}; set WORKBENCH_MIRROR to the data mirror")
    with gzip.open(path) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    return (raw[:n].astype(np.float32) / 255.0).copy()


def median_ms(fn, repeats: int, setup=None):
    times, result = [], None
    for _ in range(repeats):
        state = setup() if setup else None
        t0 = time.perf_counter()
        result = fn(state) if setup else fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3), result


def bench_spyker(x, w0, repeats, threads):
    import spyker

    spyker.set_max_threads(threads)
    conv = spyker.Conv(6, 30, 5, pad=2)
    spyker_kernel = conv.kernel
    np.asarray(spyker_kernel)[...] = w0  # zero-copy view of the kernel
    conv.stdpconfig = [spyker.STDPConfig(A_PLUS, A_MINUS)]
    res = {}
    # dense path
    res["code"], wave = median_ms(lambda: spyker.code(x, T), repeats)
    res["conv"], pot = median_ms(lambda: conv(wave), repeats)
    res["inhibit"], pot_i = median_ms(lambda: spyker.inhibit(pot.copy(), THRESHOLD), repeats)
    res["fire"], spikes = median_ms(lambda: spyker.fire(pot_i, THRESHOLD), repeats)
    res["wta"], winners = median_ms(lambda: spyker.convwta(pot_i, RADIUS, COUNT, THRESHOLD), repeats)
    res["stdp"], _ = median_ms(
        lambda w: conv.stdp(wave, winners, spikes),
        repeats,
        setup=lambda: np.asarray(conv.kernel).__setitem__(Ellipsis, w0),
    )

    def dense_step(_):
        wv = spyker.code(x, T)
        p = spyker.inhibit(conv(wv), THRESHOLD)
        s = spyker.fire(p, THRESHOLD)
        win = spyker.convwta(p, RADIUS, COUNT, THRESHOLD)
        conv.stdp(wv, win, s)
        return win

    reset = lambda: np.asarray(conv.kernel).__setitem__(Ellipsis, w0)  # noqa: E731
    res["full"], dense_winners = median_ms(dense_step, repeats, setup=reset)
    dense_w = np.array(conv.kernel, copy=True)
    # sparse path
    sp = {}
    sp["code"], s = median_ms(lambda: spyker.sparse.code(x, T), repeats)
    sp["conv"], so = median_ms(lambda: spyker.sparse.conv(s, conv.kernel, THRESHOLD, 1, 2), repeats)
    sp["inhibit"], si = median_ms(lambda: spyker.sparse.inhibit(so), repeats)
    sp["wta"], sw = median_ms(lambda: spyker.sparse.convwta(si, RADIUS, COUNT), repeats)
    sp["stdp"], _ = median_ms(lambda w: conv.stdp(s, sw), repeats, setup=reset)

    def sparse_step(_):
        sc = spyker.sparse.code(x, T)
        si_ = spyker.sparse.inhibit(spyker.sparse.conv(sc, conv.kernel, THRESHOLD, 1, 2))
        win = spyker.sparse.convwta(si_, RADIUS, COUNT)
        conv.stdp(sc, win)
        return win

    sp["full"], _ = median_ms(sparse_step, repeats, setup=reset)
    as_rows = np.array(
        [(b, w.z, w.t, w.y, w.x) for b, ws in enumerate(dense_winners) for w in ws], dtype=np.int64
    ).reshape(-1, 5)
    return res, sp, as_rows, dense_w


def bench_workbench(x, w0, repeats, threads):
    from workbench import snn

    snn.set_num_threads(threads)
    layer = snn.Conv(6, 30, 5, padding=2, dtype=np.float32)
    config = snn.STDPConfig(A_PLUS, A_MINUS)

    def reset():
        layer.weight = w0.copy()

    # event-driven path on time maps
    ev = {}
    ev["code"], tmap = median_ms(lambda: snn.sparse.code(x, T), repeats)
    reset()
    ev["conv"], (otm, opot) = median_ms(lambda: snn.sparse.conv(tmap, layer.weight, THRESHOLD, T, 1, 2), repeats)
    ev["fire"] = 0.0  # fused into the event-driven conv
    ev["inhibit"], (itm, ipot) = median_ms(lambda: snn.sparse.inhibit(otm, opot, T), repeats)
    ev["wta"], winners = median_ms(lambda: snn.sparse.conv_wta(itm, ipot, RADIUS, COUNT, T), repeats)
    ev["stdp"], _ = median_ms(lambda _: snn.sparse.stdp(layer, tmap, winners, config), repeats, setup=reset)

    def event_step(_):
        tm = snn.sparse.code(x, T)
        o = snn.sparse.conv(tm, layer.weight, THRESHOLD, T, 1, 2)
        win = snn.sparse.conv_wta(*snn.sparse.inhibit(*o, T), RADIUS, COUNT, T)
        snn.sparse.stdp(layer, tm, win, config)
        return win

    ev["full"], ev_winners = median_ms(event_step, repeats, setup=reset)
    ev_w = layer.weight.copy()

    # dense path on spike-waves
    de = {}
    de["code"], wave = median_ms(lambda: snn.rank_code(x, T), repeats)
    reset()
    de["conv"], pot = median_ms(lambda: layer(wave), repeats)
    de["inhibit"], pot_i = median_ms(lambda: snn.inhibit(pot, THRESHOLD), repeats)
    de["fire"], _ = median_ms(lambda: snn.fire(pot_i, THRESHOLD), repeats)
    de["wta"], dwin = median_ms(lambda: snn.conv_wta(pot_i, RADIUS, COUNT, THRESHOLD), repeats)
    de["stdp"], _ = median_ms(lambda _: snn.stdp(layer, wave, dwin, config), repeats, setup=reset)

    def dense_step(_):
        wv = snn.rank_code(x, T)
        p = snn.inhibit(layer(wv), THRESHOLD)
        win = snn.conv_wta(p, RADIUS, COUNT, THRESHOLD)
        snn.stdp(layer, wv, win, config)
        return win

    de["full"], de_winners = median_ms(dense_step, repeats, setup=reset)
    return ev, de, ev_winners, de_winners, ev_w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="threads for both systems (default 1)")
    parser.add_argument("--repeats", type=int, default=11, help="timed repeats per measurement (median)")
    parser.add_argument("--batch", type=int, default=64, help="number of MNIST test images (default 64)")
    args = parser.parse_args()

    import spyker

    images = load_images(args.batch)
    dog = spyker.DoG(3, [spyker.DoGFilter(a, b) for a, b in DOG_STDS], pad=3)  # window 7
    x = np.ascontiguousarray(dog(images), dtype=np.float32)
    w0 = np.random.default_rng(0).normal(0.8, 0.05, size=(30, 6, 5, 5)).astype(np.float32)

    sd, ss, sp_winners, sp_w = bench_spyker(x, w0, args.repeats, args.threads)
    ev, de, ev_winners, de_winners, ev_w = bench_workbench(x, w0, args.repeats, args.threads)

    steps = ["code", "conv", "fire", "inhibit", "wta", "stdp", "full"]
    print(f"Mozafari-2019 layer-1 STDP step, batch {args.batch}, T={T}, threads={args.threads}, "
          f"median of {args.repeats}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'step':<8} {'spyker dense':>13} {'spyker sparse':>14} {'wb dense':>10} {'wb event':>10} "
          f"{'dense/wb':>9} {'sparse/wb':>10}")
    for s in steps:
        best = min(de[s], ev[s]) if s != "fire" else de[s]
        sps = ss.get(s, float("nan"))
        print(f"{s:<8} {sd[s]:>13.2f} {sps:>14.2f} {de[s]:>10.2f} {ev[s]:>10.2f} "
              f"{sd[s] / max(best, 1e-9):>9.1f} {sps / max(ev[s], 1e-9):>10.1f}")
    # Spyker reports t = 0 for every dense winner; compare (batch, feature, y, x).
    cols = [0, 1, 3, 4]
    same_winners = bool(np.array_equal(np.asarray(ev_winners, dtype=np.int64)[:, cols], sp_winners[:, cols]))
    same_dense = bool(np.array_equal(np.asarray(de_winners, dtype=np.int64)[:, cols], sp_winners[:, cols]))
    max_w_diff = float(np.abs(ev_w - sp_w).max())
    print(f"winners identical to Spyker's: event-driven {same_winners}, dense {same_dense}; "
          f"max |weight difference| after one STDP step: {max_w_diff:.2e}")
    result = {
        "workbench_ms": ev["full"],
        "workbench_dense_ms": de["full"],
        "spyker_dense_ms": sd["full"],
        "spyker_sparse_ms": ss["full"],
        "threads": args.threads,
        "batch": args.batch,
        "steps_ms": {"spyker_dense": sd, "spyker_sparse": ss, "workbench_dense": de, "workbench_event": ev},
        "winners_match_spyker": same_winners,
        "max_weight_diff": max_w_diff,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
