"""Spike parity of the GPU convolution, checked on the host: no GPU needed, nvcc is.

``cuda/conv.cu`` keeps its per-neuron work in ``__host__ __device__`` functions.  Here the
kernel source (exactly what NVRTC receives) is compiled by nvcc together with a small
host ``main`` that calls those functions for every output neuron, and the results are
compared BIT FOR BIT with the CPU core (``snn.conv`` / ``snn.conv_fire_timemap``) on
inputs where the summation order matters: weights spanning many orders of magnitude and
thresholds placed exactly on (and one ulp below) the potentials reached.

What this does not show: that the device executes these functions as the host does.  Only
IEEE additions and comparisons are involved (no products, so no FMA contraction; the
module is also built with ``--fmad=false``), which round identically on both, but the
device run itself is covered only by test_cuda_parity.py on a machine with a GPU.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workbench import snn
from workbench.cuda._runtime import NVRTC_OPTIONS, kernel_source

NVCC = shutil.which("nvcc")
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not found on PATH: cannot build the host harness")

HARNESS_MAIN = r"""
#include <cstdio>
#include <vector>
// argv: input file, output file.  Input: 12 ints (B C H W F KH KW SY SX PY PX mode),
// the int32 time map, the weights, the threshold.  mode 0: dense, 1: fire.
int main(int argc, char** argv) {
    if (argc != 3) return 2;
    int d[12];
    FILE* fi = std::fopen(argv[1], "rb");
    if (!fi || std::fread(d, sizeof(int), 12, fi) != 12) return 3;
    const int B = d[0], C = d[1], H = d[2], W = d[3], F = d[4], KH = d[5], KW = d[6];
    const int SY = d[7], SX = d[8], PY = d[9], PX = d[10], mode = d[11];
    const int OH = (H + 2 * PY - KH) / SY + 1, OW = (W + 2 * PX - KW) / SX + 1;
    std::vector<int> tm((size_t)B * C * H * W);
    std::vector<real_t> w((size_t)F * C * KH * KW);
    real_t thr;
    if (std::fread(tm.data(), sizeof(int), tm.size(), fi) != tm.size()) return 4;
    if (std::fread(w.data(), sizeof(real_t), w.size(), fi) != w.size()) return 5;
    if (std::fread(&thr, sizeof(real_t), 1, fi) != 1) return 6;
    std::fclose(fi);
    const size_t n = (size_t)B * F * OH * OW;
    FILE* fo = std::fopen(argv[2], "wb");
    if (mode == 0) {
        std::vector<real_t> out(n * WB_T);
        for (size_t i = 0; i < n; ++i)
            wb_conv_dense_one(i, tm.data(), w.data(), out.data(), C, H, W, F, KH, KW, SY, SX, PY, PX, OH, OW);
        std::fwrite(out.data(), sizeof(real_t), out.size(), fo);
    } else {
        std::vector<int> ot(n);
        std::vector<real_t> op(n);
        for (size_t i = 0; i < n; ++i)
            wb_conv_fire_one(i, tm.data(), w.data(), ot.data(), op.data(), thr, C, H, W, F, KH, KW, SY, SX, PY,
                             PX, OH, OW);
        std::fwrite(ot.data(), sizeof(int), n, fo);
        std::fwrite(op.data(), sizeof(real_t), n, fo);
    }
    std::fclose(fo);
    return 0;
}
"""


class Harness:
    """The kernel's per-neuron functions, compiled for the host for one (dtype, T)."""

    def __init__(self, folder: Path, dtype, T: int):
        self.dtype, self.T, self.folder = np.dtype(dtype), T, folder
        real = "float" if self.dtype == np.float32 else "double"
        src = folder / f"conv_{real}_{T}.cu"
        src.write_text(kernel_source("conv") + HARNESS_MAIN)
        self.exe = folder / f"conv_{real}_{T}"
        cmd = [NVCC, *NVRTC_OPTIONS, f"-DWB_REAL={real}", f"-DWB_T={T}", "-o", str(self.exe), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr

    def _run(self, tmap, weight, stride, padding, mode, threshold=0.0):
        B, C, H, W = tmap.shape
        F, _, KH, KW = weight.shape
        dims = np.array([B, C, H, W, F, KH, KW, stride, stride, padding, padding, mode], np.int32)
        inp, out = self.folder / "in.bin", self.folder / "out.bin"
        inp.write_bytes(dims.tobytes() + tmap.astype(np.int32).tobytes() + weight.astype(self.dtype).tobytes()
                        + self.dtype.type(threshold).tobytes())
        subprocess.run([str(self.exe), str(inp), str(out)], check=True)
        raw = out.read_bytes()
        OH, OW = (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1
        if mode == 0:
            return np.frombuffer(raw, self.dtype).reshape(B, self.T, F, OH, OW)
        n = B * F * OH * OW
        return (np.frombuffer(raw[: 4 * n], np.int32).reshape(B, F, OH, OW),
                np.frombuffer(raw[4 * n:], self.dtype).reshape(B, F, OH, OW))

    def dense(self, tmap, weight, stride=1, padding=0):
        return self._run(tmap, weight, stride, padding, 0)

    def fire(self, tmap, weight, threshold, stride=1, padding=0):
        return self._run(tmap, weight, stride, padding, 1, threshold)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    built: dict = {}

    def get(dtype, T):
        key = (np.dtype(dtype).name, T)
        if key not in built:
            built[key] = Harness(tmp_path_factory.mktemp("conv_harness"), dtype, T)
        return built[key]

    return get


def histogram_order_fire(tmap, weight, threshold, T):
    """Reference of the OLD GPU scheme (per-step partial sums, then a running sum) for one
    output of a 1 x N input and one 1 x N kernel: shows that the order is observable."""
    w = weight.reshape(-1)
    t = tmap.reshape(-1)
    acc = weight.dtype.type(0)
    for s in range(T):
        part = weight.dtype.type(0)
        for j in np.flatnonzero(t == s):
            part = part + w[j]
        acc = acc + part
        if acc > weight.dtype.type(threshold):
            return s, acc
    return T, weight.dtype.type(0)


def test_order_sensitive_case_matches_the_cpu_and_not_the_old_scheme(harness):
    # float32 spacing at 1e8 is 8, so adding 1 to +-1e8 is lost.  Step 0 brings -1e8 and 1,
    # step 1 brings 1e8 and 1 (inputs in column order).
    T = 2
    tmap = np.array([[[[0, 0, 1, 1]]]], np.int32)
    weight = np.array([[[[-1e8, 1.0, 1e8, 1.0]]]], np.float32)
    cpu_t, cpu_p = snn.conv_fire_timemap(tmap, weight, 0.5, T)
    assert (cpu_t.item(), cpu_p.item()) == (1, 1.0)  # running sum: (((-1e8 + 1) + 1e8) + 1) = 1
    assert histogram_order_fire(tmap, weight, 0.5, T)[0] == T  # per-step sums: (-1e8 + 1) + (1e8 + 1) = 0
    h = harness(np.float32, T)
    got_t, got_p = h.fire(tmap, weight, 0.5)
    np.testing.assert_array_equal(got_t, cpu_t)
    np.testing.assert_array_equal(got_p, cpu_p)
    np.testing.assert_array_equal(h.dense(tmap, weight), snn.conv(snn.scatter(tmap, T), weight))


def _wide_weights(rng, shape, dtype):
    # any sign, magnitudes over 8 decades: rounding depends on the order of additions
    return (rng.normal(0, 1, shape) * 10.0 ** rng.integers(-3, 6, shape)).astype(dtype)


def _tmap(rng, shape, T, p_silent=0.3):
    t = rng.integers(0, T, shape).astype(np.int32)
    t[rng.random(shape) < p_silent] = T
    return t


GEOMETRIES = [
    # (B, C, H, W, F, K, stride, padding)
    (1, 1, 1, 1, 1, 1, 1, 0),  # batch of 1, 1x1 image
    (2, 3, 7, 9, 5, 3, 1, 1),
    (2, 4, 10, 8, 3, 5, 2, 2),
    (1, 6, 6, 6, 4, 6, 1, 0),  # kernel covers the whole image
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_dense_and_fire_are_bit_identical_to_the_cpu(harness, rng, dtype, geometry):
    B, C, H, W, F, K, stride, padding = geometry
    T = 6
    h = harness(dtype, T)
    tmap = _tmap(rng, (B, C, H, W), T)
    weight = _wide_weights(rng, (F, C, K, K), dtype)
    ref = snn.conv(snn.scatter(tmap, T), weight, stride, padding)
    np.testing.assert_array_equal(h.dense(tmap, weight, stride, padding), ref)
    # thresholds exactly at reached potentials (strict '>' must not fire there) and one ulp
    # below (must fire there), plus the edge cases 0 and negative
    reached = ref[np.nonzero(ref)]
    picks = list(rng.choice(reached, size=min(4, reached.size), replace=False)) if reached.size else []
    thresholds = [0.0, -1.0, *picks, *(np.nextafter(p, dtype(-np.inf)) for p in picks)]
    for thr in thresholds:
        cpu_t, cpu_p = snn.conv_fire_timemap(tmap, weight, float(thr), T, stride, padding)
        got_t, got_p = h.fire(tmap, weight, float(thr), stride, padding)
        np.testing.assert_array_equal(got_t, cpu_t, err_msg=f"threshold {thr!r}")
        np.testing.assert_array_equal(got_p, cpu_p, err_msg=f"threshold {thr!r}")


def test_edge_cases_t1_silent_and_all_zero(harness, rng):
    h = harness(np.float32, 1)
    weight = _wide_weights(rng, (2, 2, 3, 3), np.float32)
    for tmap in (np.zeros((1, 2, 4, 4), np.int32), np.ones((1, 2, 4, 4), np.int32), _tmap(rng, (3, 2, 4, 4), 1)):
        np.testing.assert_array_equal(h.dense(tmap, weight, 1, 1), snn.conv(snn.scatter(tmap, 1), weight, 1, 1))
        for thr in (0.0, -0.5, 1e3):
            cpu = snn.conv_fire_timemap(tmap, weight, thr, 1, 1, 1)
            got = h.fire(tmap, weight, thr, 1, 1)
            np.testing.assert_array_equal(got[0], cpu[0])
            np.testing.assert_array_equal(got[1], cpu[1])
    # no input spike at all and a negative threshold: every neuron fires at step 0 with 0
    silent = np.ones((1, 2, 4, 4), np.int32)  # T = 1 means never fired
    t, p = h.fire(silent, weight, -0.5, 1, 1)
    assert (t == 0).all() and (p == 0).all()


def test_all_zero_weights_never_fire_with_non_negative_threshold(harness, rng):
    h = harness(np.float32, 6)
    tmap = _tmap(rng, (2, 3, 5, 5), 6)
    weight = np.zeros((2, 3, 3, 3), np.float32)
    t, p = h.fire(tmap, weight, 0.0)
    assert (t == 6).all() and (p == 0).all()
    assert (h.dense(tmap, weight) == 0).all()
