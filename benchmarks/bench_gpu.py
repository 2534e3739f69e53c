"""GPU benchmark, one prepared script for a device machine.

1. runs the GPU parity suite (``tests/cuda/test_cuda_parity.py``);
2. times the Mozafari-2019 first-layer STDP step (rank code T=15 -> conv 6->30 k5 pad 2 ->
   fire at 15 -> inhibition -> k-WTA k=5 r=3 -> STDP) on the GPU at batch 64 and 1024,
   against the CPU core in the same run;
3. times whole-network feature extraction (Mozafari 2019 architecture: conv1, pool,
   conv2 30->250 k3, pool, conv3 250->200 k5) in images/s, GPU vs CPU;
4. reports peak GPU memory at batch 1024 (CuPy's pool; no managed memory is used).

Prints a table and, as its last line, a JSON object.  Input: MNIST test images from
``WORKBENCH_MIRROR`` when present, else random images of the same size (said in the output).

Usage::

    python benchmarks/bench_gpu.py [--repeats 10] [--skip-parity]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

T, THRESHOLD, RADIUS, COUNT = 15, 15.0, 3, 5


def images(n: int) -> tuple[np.ndarray, str]:
    mirror = Path(os.environ.get("WORKBENCH_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    path = mirror / "mnist" / "t10k-images-idx3-ubyte.gz"
    if path.exists():
        with gzip.open(path) as f:
            raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        reps = -(-n // raw.shape[0])
        return np.tile(raw, (reps, 1, 1, 1))[:n].astype(np.float32) / 255.0, "MNIST test images"
    return np.random.default_rng(0).random((n, 1, 28, 28), dtype=np.float32), "random images (MNIST not found)"


def median_ms(fn, repeats, sync=None):
    fn()  # warm-up (compilation)
    if sync:
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-parity", action="store_true")
    args = parser.parse_args()

    result: dict = {}
    if not args.skip_parity:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "tests/cuda/test_cuda_parity.py"], capture_output=True, text=True)
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
        print("parity suite:", tail)
        result["parity"] = tail
        result["parity_ok"] = proc.returncode == 0

    import cupy as cp

    from workbench import cuda as gpu
    from workbench import snn

    if not gpu.gpu_available():
        sys.exit("no CUDA device visible to CuPy")
    dev = gpu.devices()[1]
    print(f"device: {dev['model']} ({dev['memory_bytes'] / 2**30:.0f} GiB), CPU threads: {snn.get_num_threads()}")
    dog = snn.DoG(3, [(3 / 9, 6 / 9), (6 / 9, 3 / 9), (7 / 9, 14 / 9), (14 / 9, 7 / 9), (13 / 9, 26 / 9), (26 / 9, 13 / 9)], pad=3)
    rng = np.random.default_rng(0)
    w1 = rng.normal(0.8, 0.05, (30, 6, 5, 5)).astype(np.float32)
    w2 = rng.normal(0.8, 0.05, (250, 30, 3, 3)).astype(np.float32)
    w3 = rng.normal(0.8, 0.05, (200, 250, 5, 5)).astype(np.float32)
    sync = cp.cuda.Device().synchronize
    rows = []
    for batch in (64, 1024):
        imgs, source = images(batch)
        x = np.ascontiguousarray(dog(imgs), dtype=np.float32)
        xg = cp.asarray(x)
        layer = snn.Conv(6, 30, 5, padding=2)
        layer.weight = w1.copy()
        config = snn.STDPConfig(0.004, -0.003)
        wg = cp.asarray(w1)

        def cpu_step():
            tm = snn.sparse.code(x, T)
            o, p = snn.sparse.conv(tm, layer.weight, THRESHOLD, T, 1, 2)
            o, p = snn.sparse.inhibit(o, p, T)
            win = snn.sparse.conv_wta(o, p, RADIUS, COUNT, T)
            snn.sparse.stdp(layer, tm, win, config)

        def gpu_step():
            tm = gpu.rank_code_timemap(xg, T)
            o, p = gpu.conv_fire_timemap(tm, wg, THRESHOLD, T, 1, 2)
            o, p = gpu.inhibit_timemap(o, p, T)
            win = gpu.conv_wta_timemap(o, p, RADIUS, COUNT, T)
            gpu.stdp_update(wg, tm, win, 0.004, -0.003, padding=2)

        cp.get_default_memory_pool().free_all_blocks()
        c_ms = median_ms(cpu_step, max(3, args.repeats // 2))
        g_ms = median_ms(gpu_step, args.repeats, sync)
        rows.append(("stdp_step", batch, c_ms, g_ms))

        w1g, w2g, w3g = cp.asarray(w1), cp.asarray(w2), cp.asarray(w3)

        def cpu_net():
            tm = snn.sparse.code(x, T)
            o, p = snn.sparse.conv(tm, w1, 15.0, T, 1, 2)
            o = snn.sparse.pool(snn.sparse.inhibit(o, p, T)[0], 2, 2, 1, T)
            o, p = snn.sparse.conv(o, w2, 10.0, T, 1, 1)
            o = snn.sparse.pool(snn.sparse.inhibit(o, p, T)[0], 3, 3, 1, T)
            return snn.sparse.conv(o, w3, 0.0, T, 1, 0)

        def gpu_net():
            tm = gpu.rank_code_timemap(xg, T)
            o, p = gpu.conv_fire_timemap(tm, w1g, 15.0, T, 1, 2)
            o = gpu.pool_timemap(gpu.inhibit_timemap(o, p, T)[0], 2, 2, 1, T)
            o, p = gpu.conv_fire_timemap(o, w2g, 10.0, T, 1, 1)
            o = gpu.pool_timemap(gpu.inhibit_timemap(o, p, T)[0], 3, 3, 1, T)
            return gpu.conv_fire_timemap(o, w3g, 0.0, T, 1, 0)

        c_net = median_ms(cpu_net, max(3, args.repeats // 2))
        pool = cp.get_default_memory_pool()
        pool.free_all_blocks()
        g_net = median_ms(gpu_net, args.repeats, sync)
        rows.append(("features", batch, c_net, g_net))
        if batch == 1024:
            result["peak_gpu_bytes_batch1024"] = int(pool.total_bytes())
        result["input"] = source

    print(f"{'case':<10} {'batch':>6} {'cpu ms':>10} {'gpu ms':>10} {'speed-up':>9} {'gpu img/s':>11}")
    for name, batch, c, g in rows:
        print(f"{name:<10} {batch:>6} {c:>10.2f} {g:>10.3f} {c / g:>9.1f} {batch / (g / 1e3):>11.0f}")
        result[f"{name}_{batch}"] = {"cpu_ms": c, "gpu_ms": g, "gpu_images_per_s": batch / (g / 1e3)}
    print(f"peak GPU memory (pool) at batch 1024: {result.get('peak_gpu_bytes_batch1024', 0) / 2**20:.1f} MiB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
