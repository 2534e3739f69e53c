"""Mozafari-2019 decision layer, online R-STDP: workbench vs Spyker, side by side.

The step, per training image, as in Mozafari et al. (2019) and SpykeTorch's reproduction:
a decision layer of 200 thresholdless neurons (20 per digit), 5x5 kernels over the
250 x 4 x 4 pooled conv2 map, padding 2; the neuron with the largest final potential
decides; R-STDP (reward 0.004 / -0.003, punishment -0.004 / 0.0005, no soft bound,
weights in [0.2, 0.8]) updates its kernel at its position before the next image.

Input: time maps in which 31% of the inputs fire (the density measured on MNIST test
images through a trained Mozafari 2019 front end), times uniform over T = 15 steps,
random labels; weights N(0.8, 0.05) clipped to the bounds.  Same data and initial
weights for both systems.

* workbench: ``snn.max_potential_rstdp`` over all images (one call, event-driven).
* Spyker 0.1.0 has no decision op, so the same step is composed from its primitives,
  one image at a time (online): ``Conv`` forward on the spike-wave, argmax of the last
  step's potentials, ``Conv.stdp`` with the reward or punish config for the winner.

Printed as a check: the share of images on which both chose the same winner, and the
largest weight difference at the end.  Both are exact until a near-tie: float32 sums
added in a different order can break it differently, after which the two online runs
learn different things.  Timed: the whole online pass, median of ``--repeats`` runs,
reported per image.

Usage::

    python benchmarks/bench_decision.py --threads 1

Prints a table and, as its last line, a JSON object with ``workbench_ms`` and
``spyker_ms`` (per image), ``ratio`` and ``threads``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

T, F, C, H, W, K, PAD = 15, 200, 250, 4, 4, 5, 2
DENSITY = 0.31
REWARD = (0.004, -0.003)
PUNISH = (-0.004, 0.0005)
LOWER, UPPER = 0.2, 0.8


def make_inputs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    fired = rng.random((n, C, H, W)) < DENSITY
    tmap = np.where(fired, rng.integers(0, T, (n, C, H, W)), T).astype(np.int32)
    labels = rng.integers(0, 10, n).astype(np.int64)
    weight = np.clip(rng.normal(0.8, 0.05, (F, C, K, K)), LOWER, UPPER).astype(np.float32)
    return tmap, labels, weight


def median_ms(run, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)), result


def bench_workbench(tmap, labels, weight, repeats, threads):
    from workbench import snn

    snn.set_num_threads(threads)
    classes = np.arange(F) // (F // 10)
    reward = snn.STDPConfig(*REWARD, stabilize=False, lower=LOWER, upper=UPPER)
    punish = snn.STDPConfig(*PUNISH, stabilize=False, lower=LOWER, upper=UPPER)

    def run():
        w = weight.copy()
        won = snn.max_potential_rstdp(tmap, w, T, labels, classes, reward, punish, padding=PAD)
        return won, w

    return median_ms(run, repeats)


def bench_spyker(tmap, labels, weight, repeats, threads):
    import spyker

    spyker.set_max_threads(threads)
    classes = np.arange(F) // (F // 10)
    steps = np.arange(T).reshape(1, T, 1, 1, 1)
    waves = (steps >= tmap[:, None]).astype(np.uint8)  # (n, T, C, H, W) cumulative spike-waves
    conv = spyker.Conv(C, F, K, pad=PAD)
    conv.stdpconfig = [spyker.STDPConfig(*REWARD, False, LOWER, UPPER), spyker.STDPConfig(*PUNISH, False, LOWER, UPPER)]
    kernel = np.asarray(conv.kernel)  # zero-copy view
    out = np.zeros((1, T, F, H, W), np.uint8)

    def run():
        kernel[...] = weight
        won = np.full((len(tmap), 3), -1, np.int64)
        for b in range(len(tmap)):
            wave = waves[b : b + 1]
            final = np.asarray(conv(wave))[0, -1]  # (F, H, W) potentials at the last step
            best = int(np.argmax(final))
            if final.flat[best] <= 0:
                continue
            f, y, x = np.unravel_index(best, final.shape)
            won[b] = (f, y, x)
            winner = spyker.Winner(0 if classes[f] == labels[b] else 1, T - 1, int(f))
            winner.y, winner.x = int(y), int(x)
            out[0, T - 1, f, y, x] = 1  # the winner fires at the last step
            conv.stdp(wave, [[winner]], out)
            out[0, T - 1, f, y, x] = 0
        return won, np.array(kernel, copy=True)

    return median_ms(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300, help="training images per online pass (default 300)")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the median is reported (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="threads for both systems (default 1)")
    args = parser.parse_args()
    tmap, labels, weight = make_inputs(args.images)
    wb_ms, (wb_won, wb_w) = bench_workbench(tmap, labels, weight, args.repeats, args.threads)
    sp_ms, (sp_won, sp_w) = bench_spyker(tmap, labels, weight, args.repeats, args.threads)
    agree = float(np.mean(np.all(wb_won == sp_won, axis=1)))
    n = args.images
    print(f"machine: {platform.processor() or platform.machine()}, threads: {args.threads}, images: {n}, "
          f"median of {args.repeats}")
    print(f"{'system':<28}{'ms / image':>12}")
    print(f"{'workbench (event-driven)':<28}{wb_ms / n:>12.3f}")
    print(f"{'spyker (composed, dense)':<28}{sp_ms / n:>12.3f}")
    print(f"speed-up: {sp_ms / wb_ms:.1f}x; same winner on {100 * agree:.1f}% of images; "
          f"max |weight difference| {float(np.abs(wb_w - sp_w).max()):.2e}")
    print(json.dumps({"workbench_ms": wb_ms / n, "spyker_ms": sp_ms / n, "ratio": sp_ms / wb_ms,
                      "agreement": agree, "threads": args.threads}))


if __name__ == "__main__":
    main()
