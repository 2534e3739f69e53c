"""The GPU decision kernels' arithmetic, checked on the host: no GPU needed, nvcc is.

``cuda/decision.cu`` keeps its per-element work in ``__host__ __device__`` functions:
the fired flags, a neuron's final potential (one running sum in (c, ky, kx) order), the
per-thread best, the step of the block's reduction tree, the output row and the R-STDP
update of one weight.  Here the kernel source (exactly what NVRTC receives) is compiled by
nvcc together with a small host ``main`` that drives those functions as the kernels do --
thread by thread for a block of ``NT`` threads, then the reduction tree, sample after
sample with learning -- and the results are compared EXACTLY with the CPU core
(``snn.max_potential_decide`` / ``snn.max_potential_rstdp``) and with a NumPy loop.

What this does not show: the kernels' own glue (shared memory, ``__syncthreads``, the
launch) and that the device rounds as the host.  Only IEEE additions, subtractions,
products and comparisons are involved, which round identically on both when products are
not contracted into FMAs (the module is built with ``--fmad=false``); the device run is
covered by test_cuda_parity.py on a machine with a GPU.

The last section runs the CuPy front end (``workbench.cuda.max_potential_*``) on the host:
a NumPy subclass stands for the device arrays and each launch is checked against the
kernel's parameter list and shared-memory layout, then executed by the harness.  The
mutation tests show that the comparisons can fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import snn
from workbench.cuda import _ops, _runtime
from workbench.cuda._runtime import NVRTC_OPTIONS, kernel_source
from workbench.snn import _dispatch

NVCC = shutil.which("nvcc")
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not found on PATH: cannot build the host harness")

HARNESS_MAIN = r"""
#include <cstdio>
#include <vector>
// argv: input file, output file.  Input: 13 ints (mode NT B T C H W KH KW F PY PX stabilize),
// the int32 time map (B, C, H, W), the weights (C, KH, KW, F), the active flags (F, uint8),
// feature_class (F, int64), labels (B, int64), 6 rates (reward +/-, punish +/-, lower, upper).
// mode 0: decide (weights unchanged), 1: online R-STDP.  Output: (B, 3) int32, weights.
// The driver follows the kernels: per sample, the fired flags, each of NT threads' best,
// the reduction tree (tid < s reads only slots >= s, so a sequential pass is the parallel
// step), the output row, then the update split over threads.
int main(int argc, char** argv) {
    if (argc != 3) return 2;
    int d[13];
    FILE* fi = std::fopen(argv[1], "rb");
    if (!fi || std::fread(d, sizeof(int), 13, fi) != 13) return 3;
    const int mode = d[0], NT = d[1], B = d[2], T = d[3], C = d[4], H = d[5], W = d[6], KH = d[7], KW = d[8];
    const int F = d[9], PY = d[10], PX = d[11], stabilize = d[12];
    const int OH = H + 2 * PY - KH + 1, OW = W + 2 * PX - KW + 1, P = OH * OW, K = C * KH * KW;
    const idx_t chw = (idx_t)C * H * W;
    std::vector<int> tm((size_t)B * chw);
    std::vector<real_t> wt((size_t)K * F);
    std::vector<unsigned char> active(F);
    std::vector<long long> fclass(F), labels(B);
    real_t r[6];
    if (std::fread(tm.data(), sizeof(int), tm.size(), fi) != tm.size()) return 4;
    if (std::fread(wt.data(), sizeof(real_t), wt.size(), fi) != wt.size()) return 5;
    if (std::fread(active.data(), 1, F, fi) != (size_t)F) return 6;
    if (std::fread(fclass.data(), sizeof(long long), F, fi) != (size_t)F) return 7;
    if (std::fread(labels.data(), sizeof(long long), B, fi) != (size_t)B) return 8;
    if (std::fread(r, sizeof(real_t), 6, fi) != 6) return 9;
    std::fclose(fi);
    std::vector<unsigned char> fired(chw);
    std::vector<real_t> top(NT);
    std::vector<int> best(NT), out((size_t)B * 3);
    for (int b = 0; b < B; ++b) {
        for (int tid = 0; tid < NT; ++tid)
            for (idx_t j = tid; j < chw; j += NT) fired[j] = wb_dec_fired(tm.data(), b, j, chw, T);
        for (int tid = 0; tid < NT; ++tid)
            wb_dec_thread_best(tid, NT, wt.data(), fired.data(), active.data(), C, H, W, KH, KW, F, PY, PX, OH,
                               OW, top[tid], best[tid]);
        for (int s = NT / 2; s > 0; s >>= 1)
            for (int tid = 0; tid < s; ++tid) wb_dec_reduce_step(top.data(), best.data(), tid, s);
        const int win = best[0];
        wb_dec_write(out.data(), b, win, P, OW);
        if (mode == 1 && win >= 0) {
            const int f = win / P, oy = (win % P) / OW, ox = (win % P) % OW;
            const bool rewarded = fclass[f] == labels[b];
            for (int tid = 0; tid < NT; ++tid)
                for (int k = tid; k < K; k += NT)
                    wb_dec_update_one(wt.data(), fired.data(), k, f, oy, ox, rewarded ? r[0] : r[2],
                                      rewarded ? r[1] : r[3], r[4], r[5], stabilize, H, W, KH, KW, F, PY, PX);
        }
    }
    FILE* fo = std::fopen(argv[2], "wb");
    std::fwrite(out.data(), sizeof(int), out.size(), fo);
    std::fwrite(wt.data(), sizeof(real_t), wt.size(), fo);
    std::fclose(fo);
    return 0;
}
"""


class Harness:
    """The decision kernels' per-element functions, compiled for the host for one dtype."""

    def __init__(self, folder: Path, dtype, source: str | None = None):
        self.dtype, self.folder = np.dtype(dtype), folder
        real = "float" if self.dtype == np.float32 else "double"
        src = folder / f"decision_{real}.cu"
        src.write_text((kernel_source("decision") if source is None else source) + HARNESS_MAIN)
        self.exe = folder / f"decision_{real}"
        cmd = [NVCC, *NVRTC_OPTIONS, f"-DWB_REAL={real}", "-o", str(self.exe), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr

    def run_raw(self, learn: bool, threads: int, tmap, wt, T: int, padding, active, feature_class, labels, rates,
                stabilize: bool):
        """The kernels' inputs as they are launched: ``wt`` (C, KH, KW, F), ``active`` uint8,
        ``rates`` (reward +/-, punish +/-, lower, upper) -> (winners (B, 3), wt after)."""
        B, C, H, W = tmap.shape
        KH, KW, F = wt.shape[1:]
        dims = np.array([int(learn), threads, B, T, C, H, W, KH, KW, F, *padding, int(stabilize)], np.int32)
        inp, out = self.folder / "in.bin", self.folder / "out.bin"
        inp.write_bytes(dims.tobytes() + np.ascontiguousarray(tmap, np.int32).tobytes()
                        + np.ascontiguousarray(wt, self.dtype).tobytes()
                        + np.ascontiguousarray(active, np.uint8).tobytes()
                        + np.ascontiguousarray(feature_class, np.int64).tobytes()
                        + np.ascontiguousarray(labels, np.int64).tobytes() + np.array(rates, self.dtype).tobytes())
        subprocess.run([str(self.exe), str(inp), str(out)], check=True)
        raw = out.read_bytes()
        winners = np.frombuffer(raw[: 12 * B], np.int32).reshape(B, 3)
        return winners, np.frombuffer(raw[12 * B:], self.dtype).reshape(C, KH, KW, F).copy()

    def run(self, tmap, weight, T, padding=(0, 0), active=None, labels=None, feature_class=None, reward=None,
            punish=None, threads=32):
        """-> (winners (B, 3) int32, weight (F, C, kh, kw) after learning, or unchanged)."""
        B = tmap.shape[0]
        F = weight.shape[0]
        learn = labels is not None
        active = np.ones(F, bool) if active is None else active
        labels = np.zeros(B, np.int64) if labels is None else labels
        feature_class = np.zeros(F, np.int64) if feature_class is None else feature_class
        rates = [0.0] * 6
        if learn:
            rates = [reward.a_plus, reward.a_minus, punish.a_plus, punish.a_minus, reward.lower, reward.upper]
        wt = weight.astype(self.dtype).transpose(1, 2, 3, 0)  # (C, KH, KW, F), as workbench.cuda lays it out
        winners, wt = self.run_raw(learn, threads, tmap, wt, T, padding, active, feature_class, labels, rates,
                                   bool(learn and reward.stabilize))
        return winners, np.ascontiguousarray(wt.transpose(3, 0, 1, 2))


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if NVCC is None:
        pytest.skip("nvcc not found on PATH: cannot build the host harness")
    built: dict = {}

    def get(dtype):
        key = np.dtype(dtype).name
        if key not in built:
            built[key] = Harness(tmp_path_factory.mktemp("decision_harness"), dtype)
        return built[key]

    return get


# ---------------------------------------------------------------- NumPy reference
def numpy_online(tmap, weight, T, padding, active=None, labels=None, feature_class=None, reward=None, punish=None):
    """Plain loops: each potential a running sum in (c, ky, kx) order in the weights' dtype,
    the first maximum in (feature, y, x) order among positive potentials of active
    features wins; with labels, R-STDP on its kernel at its position, then the next sample."""
    w = weight.copy()
    dt = w.dtype.type
    B, C, H, W = tmap.shape
    F, _, kh, kw = w.shape
    py, px = padding
    fired = np.pad(tmap < T, ((0, 0), (0, 0), (py, py), (px, px)))
    OH, OW = H + 2 * py - kh + 1, W + 2 * px - kw + 1
    active = np.ones(F, bool) if active is None else active
    out = np.zeros((B, 3), np.int32)
    for b in range(B):
        best, top = None, dt(0)
        for f in range(F):
            for y in range(OH):
                for x in range(OW):
                    v = dt(0)
                    for c in range(C):
                        for u in range(kh):
                            for s in range(kw):
                                if fired[b, c, y + u, x + s]:
                                    v = dt(v + w[f, c, u, s])
                    if active[f] and v > top:
                        best, top = (f, y, x), v
        out[b] = (-1, 0, 0) if best is None else best
        if best is None or labels is None:
            continue
        f, y, x = best
        cfg = reward if feature_class[f] == labels[b] else punish
        lo, up = dt(cfg.lower), dt(cfg.upper)
        for c in range(C):
            for u in range(kh):
                for s in range(kw):
                    a = dt(cfg.a_plus) if fired[b, c, y + u, x + s] else dt(cfg.a_minus)
                    v = w[f, c, u, s]
                    v = dt(v + dt(dt(a * dt(v - lo)) * dt(up - v))) if cfg.stabilize else dt(v + a)
                    w[f, c, u, s] = min(max(v, lo), up)
    return out, w


# ---------------------------------------------------------------- inputs
def dyadic_weights(rng, shape, dtype):
    # multiples of 1/8: sums are exact, so ties are real ties
    return (rng.integers(1, 8, shape) / 8).astype(dtype)


def tmap_of(rng, shape, T, p_silent=0.5):
    t = rng.integers(0, T, shape).astype(np.int32)
    t[rng.random(shape) < p_silent] = T
    return t


def configs(stabilize, dyadic=True):
    lower, upper = (0.0, 1.0) if stabilize else (0.125, 0.875)
    if dyadic:
        return (snn.STDPConfig(0.125, -0.0625, stabilize=stabilize, lower=lower, upper=upper),
                snn.STDPConfig(-0.125, 0.03125, stabilize=stabilize, lower=lower, upper=upper))
    # rates whose products round: the update's evaluation order is then observable
    return (snn.STDPConfig(0.0371, -0.0293, stabilize=stabilize, lower=lower, upper=upper),
            snn.STDPConfig(-0.0417, 0.0113, stabilize=stabilize, lower=lower, upper=upper))


CASES = [  # B, C, H, W, F, k, padding, T
    (1, 1, 1, 1, 1, 1, (0, 0), 1),  # batch of 1, 1x1 map, one feature, T=1
    (5, 3, 5, 5, 6, 3, (0, 0), 5),
    (4, 2, 4, 6, 4, 3, (1, 2), 4),
    (6, 4, 4, 4, 8, 5, (2, 2), 15),  # Mozafari 2019's geometry, scaled down
    (3, 2, 3, 3, 40, 3, (1, 1), 3),  # more neurons than threads
]


# ---------------------------------------------------------------- decide
@pytest.mark.parametrize("threads", [1, 32, 256])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,C,H,W,F,k,padding,T", CASES)
def test_decide_is_identical_to_the_cpu_and_numpy(harness, rng, dtype, threads, B, C, H, W, F, k, padding, T):
    weight = dyadic_weights(rng, (F, C, k, k), dtype)
    tmap = tmap_of(rng, (B, C, H, W), T, 0.3)
    tmap[0, :, : H // 2] = T  # part silent
    if B > 2:
        tmap[1] = T  # a silent sample is undecided
        tmap[2] = 0  # every input fired: many equal potentials
    got, w_after = harness(dtype).run(tmap, weight, T, padding, threads=threads)
    cpu = snn.max_potential_decide(tmap, weight, T, padding)
    np.testing.assert_array_equal(got, cpu)
    np.testing.assert_array_equal(got, numpy_online(tmap, weight, T, padding)[0])
    np.testing.assert_array_equal(w_after, weight)  # deciding learns nothing
    if B > 2:
        assert got[1, 0] == -1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decide_general_weights_are_identical_to_the_cpu(harness, rng, dtype):
    # any weights, magnitudes over 6 decades and both signs: the potential's rounding
    # depends on the order of additions, which is the CPU's
    weight = (rng.normal(0, 1, (7, 3, 3, 3)) * 10.0 ** rng.integers(-3, 4, (7, 3, 3, 3))).astype(dtype)
    tmap = tmap_of(rng, (20, 3, 5, 6), 6, 0.4)
    got, _ = harness(dtype).run(tmap, weight, 6, (1, 1), threads=64)
    np.testing.assert_array_equal(got, snn.max_potential_decide(tmap, weight, 6, 1))
    np.testing.assert_array_equal(got, numpy_online(tmap, weight, 6, (1, 1))[0])


def _order_case():
    # float32 spacing at 1e8 is 8, so adding 1 to -1e8 is lost.  Feature 0 in (c) order:
    # ((-1e8 + 1) + 1e8) + 1 = 1 > 0.75, so it wins; summed backwards it is 0 and feature 1
    # (0.75) would win.
    tmap = np.zeros((1, 4, 1, 1), np.int32)
    weight = np.zeros((2, 4, 1, 1), np.float32)
    weight[0, :, 0, 0] = [-1e8, 1.0, 1e8, 1.0]
    weight[1, 0, 0, 0] = 0.75
    return tmap, weight


ORDER_CASE = _order_case()


def test_summation_order_is_the_cpus(harness):
    tmap, weight = ORDER_CASE
    backwards = np.float32(0)
    for v in weight[0, ::-1, 0, 0]:
        backwards = np.float32(backwards + v)
    assert backwards < np.float32(0.75)  # the order is observable here
    cpu = snn.max_potential_decide(tmap, weight, 1)
    np.testing.assert_array_equal(cpu, [[0, 0, 0]])
    for threads in (1, 2, 8):
        np.testing.assert_array_equal(harness(np.float32).run(tmap, weight, 1, threads=threads)[0], cpu)


@pytest.mark.parametrize("threads", [1, 2, 32, 256])
def test_ties_go_to_the_first_feature_then_position_across_threads(harness, threads):
    tmap = np.zeros((1, 1, 3, 3), np.int32)  # every input fired
    weight = np.full((3, 1, 2, 2), 0.5, np.float32)  # 3 features x 4 positions, all equal
    h = harness(np.float32)
    np.testing.assert_array_equal(h.run(tmap, weight, 4, threads=threads)[0], [[0, 0, 0]])
    weight[2, 0, 1, 1] = 0.75  # feature 2 wins everywhere: its first position
    np.testing.assert_array_equal(h.run(tmap, weight, 4, threads=threads)[0], [[2, 0, 0]])
    # 1x1 kernels on a 2x2 map (P = 4): channel 0 fired at position 3 only, channel 1 at 0
    # only.  Feature 1 reaches 0.5 at position 3 (flat index 7), feature 2 at position 0
    # (flat index 8): a tie, and the threads meet them in the other order (neuron j = p * F
    # + f: 10 and 2), in different threads from 32 threads on.  The first, (1, 1, 1), wins.
    tmap = np.full((1, 2, 2, 2), 4, np.int32)
    tmap[0, 0, 1, 1] = 0
    tmap[0, 1, 0, 0] = 2
    weight = np.array([[0.25, 0.25], [0.5, 0.0], [0.0, 0.5]], np.float32).reshape(3, 2, 1, 1)
    np.testing.assert_array_equal(snn.max_potential_decide(tmap, weight, 4), [[1, 1, 1]])
    np.testing.assert_array_equal(numpy_online(tmap, weight, 4, (0, 0))[0], [[1, 1, 1]])
    np.testing.assert_array_equal(h.run(tmap, weight, 4, threads=threads)[0], [[1, 1, 1]])


def test_active_features_and_all_zero_input(harness, rng):
    weight = dyadic_weights(rng, (6, 2, 3, 3), np.float32)
    tmap = tmap_of(rng, (30, 2, 4, 4), 4, 0.3)
    active = np.array([True, False, True, False, False, True])
    h = harness(np.float32)
    got, _ = h.run(tmap, weight, 4, (1, 1), active=active, threads=16)
    np.testing.assert_array_equal(got, snn.max_potential_decide(tmap, weight, 4, 1, active=active))
    assert set(got[:, 0].tolist()) <= {0, 2, 5}
    none, _ = h.run(tmap, weight, 4, (1, 1), active=np.zeros(6, bool), threads=16)
    assert (none == [-1, 0, 0]).all()
    # all-zero weights: no positive potential, nothing decided
    zero, _ = h.run(tmap, np.zeros_like(weight), 4, (1, 1), threads=16)
    assert (zero == [-1, 0, 0]).all()
    # negative potentials never decide either (a thresholdless neuron needs a positive one)
    neg, _ = h.run(tmap, -weight, 4, (1, 1), threads=16)
    np.testing.assert_array_equal(neg, snn.max_potential_decide(tmap, -weight, 4, 1))
    assert (neg[:, 0] == -1).all()


# ---------------------------------------------------------------- R-STDP
@pytest.mark.parametrize("stabilize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,C,H,W,F,k,padding,T", CASES)
def test_rstdp_is_identical_to_the_cpu_and_numpy(harness, rng, stabilize, dtype, B, C, H, W, F, k, padding, T):
    weight = dyadic_weights(rng, (F, C, k, k), dtype)
    reward, punish = configs(stabilize)
    tmap = tmap_of(rng, (B, C, H, W), T, 0.3)
    labels = rng.integers(0, 2, B)
    feature_class = np.arange(F) % 2
    active = np.ones(F, bool)
    active[-1] = F <= 2  # a dropped-out feature never wins nor learns
    got, got_w = harness(dtype).run(tmap, weight, T, padding, active, labels, feature_class, reward, punish, 64)
    w = weight.copy()
    cpu = snn.max_potential_rstdp(tmap, w, T, labels, feature_class, reward, punish, padding=padding, active=active)
    np.testing.assert_array_equal(got, cpu)
    np.testing.assert_array_equal(got_w, w)
    ref, ref_w = numpy_online(tmap, weight, T, padding, active, labels, feature_class, reward, punish)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got_w, ref_w)
    if (got[:, 0] >= 0).any():
        assert not np.array_equal(got_w, weight)  # it did learn
    if not active[-1]:
        np.testing.assert_array_equal(got_w[-1], weight[-1])


@pytest.mark.parametrize("stabilize", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rstdp_with_rounding_rates_is_bit_identical(harness, rng, stabilize, dtype):
    # non-dyadic weights and rates: every product and sum rounds, and still the weights and
    # winners equal the CPU's bit for bit (same order of operations, no FMA)
    reward, punish = configs(stabilize, dyadic=False)
    lower, upper = reward.lower, reward.upper
    weight = rng.uniform(lower, upper, (10, 4, 5, 5)).astype(dtype)
    tmap = tmap_of(rng, (40, 4, 4, 4), 15, 0.6)
    labels, feature_class = rng.integers(0, 2, 40), np.arange(10) % 2
    got, got_w = harness(dtype).run(tmap, weight, 15, (2, 2), None, labels, feature_class, reward, punish, 128)
    w = weight.copy()
    cpu = snn.max_potential_rstdp(tmap, w, 15, labels, feature_class, reward, punish, padding=2)
    np.testing.assert_array_equal(got, cpu)
    np.testing.assert_array_equal(got_w, w)
    assert len(set(cpu[:, 0].tolist())) > 1  # several features learned


def test_rstdp_all_silent_input_changes_nothing(harness, rng):
    weight = dyadic_weights(rng, (4, 2, 3, 3), np.float32)
    tmap = np.full((3, 2, 5, 5), 7, np.int32)
    reward, punish = configs(False)
    got, got_w = harness(np.float32).run(tmap, weight, 7, (1, 1), None, np.zeros(3, np.int64), np.arange(4) % 2,
                                         reward, punish, 32)
    assert (got == [-1, 0, 0]).all()
    np.testing.assert_array_equal(got_w, weight)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 9),
       st.integers(1, 3), st.integers(0, 2), st.integers(1, 6), st.sampled_from([1, 4, 32]), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_rstdp_matches_the_cpu_on_any_geometry(harness, B, C, H, W, F, k, pad, T, threads, stabilize, seed):
    # Invariant: whatever the geometry and the split over threads, the same winners and weights.
    k = min(k, H + 2 * pad, W + 2 * pad)
    rng = np.random.default_rng(seed)
    weight = dyadic_weights(rng, (F, C, k, k), np.float32)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    labels, feature_class = rng.integers(0, 3, B), rng.integers(0, 3, F)
    reward, punish = configs(stabilize)
    got, got_w = harness(np.float32).run(tmap, weight, T, (pad, pad), None, labels, feature_class, reward, punish,
                                         threads)
    w = weight.copy()
    cpu = snn.max_potential_rstdp(tmap, w, T, labels, feature_class, reward, punish, padding=pad)
    np.testing.assert_array_equal(got, cpu)
    np.testing.assert_array_equal(got_w, w)


# ---------------------------------------------------------------- the checks can fail
MUTANTS = {
    # last maximum instead of the first on ties
    "tie rule": ("v == top && idx < best", "v == top && idx > best"),
    # the stabiliser's product in another order: rounds differently
    "update order": ("w = w + a * (w - lower) * (upper - w);", "w = w + a * ((w - lower) * (upper - w));"),
    # potentials summed over the channels backwards: rounds differently with wide weights
    "summation order": ("for (int c = 0; c < C; ++c) {", "for (int c = C - 1; c >= 0; --c) {"),
}


@needs_nvcc
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutated_kernel_is_caught(tmp_path, rng, name):
    old, new = MUTANTS[name]
    source = kernel_source("decision")
    assert source.count(old) == 1, f"mutation target of {name!r} not found: the kernel changed"
    h = Harness(tmp_path, np.float32, source.replace(old, new))
    reward, punish = configs(True, dyadic=False)
    order_t, order_w = ORDER_CASE
    caught = not np.array_equal(h.run(order_t, order_w, 1)[0], snn.max_potential_decide(order_t, order_w, 1))
    for _ in range(3):
        # decisions with ties (an all-fired sample, dyadic weights) and with weights over
        # 6 decades; online learning with rounding rates
        tmap = tmap_of(rng, (30, 3, 4, 4), 6, 0.4)
        tmap[0] = 0
        wide = (rng.normal(0, 1, (6, 3, 3, 3)) * 10.0 ** rng.integers(-3, 4, (6, 3, 3, 3))).astype(np.float32)
        dyadic = dyadic_weights(rng, (6, 3, 3, 3), np.float32) / 2 + 0.25  # in (0.25, 0.75)
        labels, feature_class = rng.integers(0, 2, 30), np.arange(6) % 2
        for weight in (dyadic, wide):
            if not np.array_equal(h.run(tmap, weight, 6, (1, 1))[0], snn.max_potential_decide(tmap, weight, 6, 1)):
                caught = True
        got, got_w = h.run(tmap, dyadic, 6, (1, 1), None, labels, feature_class, reward, punish, 32)
        w = dyadic.copy()
        cpu = snn.max_potential_rstdp(tmap, w, 6, labels, feature_class, reward, punish, padding=1)
        caught = caught or not (np.array_equal(got, cpu) and np.array_equal(got_w, w))
        if caught:
            break
    assert caught, f"mutant {name!r} passed the comparison with the CPU"



# ---------------------------------------------------------------- the CuPy front end, on the host
# workbench.cuda.max_potential_* are run with a NumPy subclass registered as the device array
# type and a NumPy stand-in for the few CuPy calls they make; the kernel launch is replaced
# by a checker that reads the kernel's parameter list from cuda/decision.cu, checks every
# argument's type, dtype and contiguity against it, checks the launch geometry and the
# shared-memory size against the kernel's layout, and then runs the host harness on the
# arguments, writing its results where the kernel would.  What this shows: the front end's
# validation, layout, argument order and launch configuration.  Not the device itself.


class FakeDeviceArray(np.ndarray):
    """Stands for cupy.ndarray (as in test_gpu_validation.py)."""


def dev(x):
    return np.array(x).view(FakeDeviceArray)


NO_CUPY = "CuPy is not installed"


def kernel_params(function: str) -> list[tuple[str, str]]:
    """``[(type, name), ...]`` of an ``extern "C"`` kernel of cuda/decision.cu."""
    src = kernel_source("decision")
    m = re.search(r'extern "C" __global__ void\s+(?:__launch_bounds__\(\d+\)\s*)?' + function + r"\s*\((.*?)\)\s*\{",
                  src, re.DOTALL)
    assert m, function
    params = []
    for part in m.group(1).split(","):
        tokens = part.replace("*", " * ").replace("__restrict__", "").replace("const", "").split()
        params.append((" ".join(tokens[:-1]), tokens[-1]))
    return params


POINTERS = {"int *": np.int32, "unsigned char *": np.uint8, "long long *": np.int64}


class LaunchChecker:
    def __init__(self, harness):
        self.harness, self.launches = harness, []

    def kernel(self, family, function, dtype=np.float32, steps=15):
        assert family == "decision"
        dtype = np.dtype(dtype)

        def launch(grid, block, args, shared_mem=0):
            params = kernel_params(function)
            assert len(args) == len(params), (function, len(args), len(params))
            named = {}
            for (ctype, name), value in zip(params, args):
                if ctype.endswith("*"):
                    want = dtype if ctype == "real_t *" else np.dtype(POINTERS[ctype])
                    assert isinstance(value, np.ndarray) and value.dtype == want, (name, ctype, type(value))
                    assert value.flags.c_contiguous, name
                else:
                    want = {"int": np.int32, "real_t": dtype.type}[ctype]
                    assert type(value) is want, (name, ctype, type(value))
                named[name] = value
            (threads,) = block
            assert threads & (threads - 1) == 0 and threads <= 1024  # tree reduction, launch bounds
            C, H, W = (int(named[k]) for k in ("C", "H", "W"))
            assert shared_mem == threads * (dtype.itemsize + 4) + C * H * W <= 48 * 1024
            tmap = named["tmap"]
            B = tmap.shape[0]
            wt = named["wt"].reshape(C, int(named["KH"]), int(named["KW"]), int(named["F"]))
            learn = function == "wb_max_potential_rstdp"
            assert grid == ((1,) if learn else (B,))
            if learn:
                assert int(named["B"]) == B
                rates = [named[k] for k in ("reward_plus", "reward_minus", "punish_plus", "punish_minus", "lower",
                                            "upper")]
                fclass, labels, stabilize = named["feature_class"], named["labels"], bool(named["stabilize"])
            else:
                rates, fclass, labels, stabilize = [0.0] * 6, np.zeros(wt.shape[3]), np.zeros(B), False
            h = self.harness(dtype)
            padding = (int(named["PY"]), int(named["PX"]))
            winners, wt_after = h.run_raw(learn, threads, tmap, wt, int(named["T"]), padding, named["active"], fclass,
                                          labels, rates, stabilize)
            named["out"][...] = winners
            named["wt"][...] = wt_after.reshape(named["wt"].shape)
            self.launches.append((function, grid, block, shared_mem))

        return launch


def numpy_cupy():
    """The CuPy calls the decision front end makes, on NumPy (results stay device arrays)."""
    return SimpleNamespace(
        ascontiguousarray=lambda x, dtype=None: np.ascontiguousarray(x, dtype).view(FakeDeviceArray),
        asarray=lambda x, dtype=None: np.asarray(x, dtype).view(FakeDeviceArray),
        empty=lambda shape, dtype: np.empty(shape, dtype).view(FakeDeviceArray),
        int32=np.int32, uint8=np.uint8, int64=np.int64,
    )


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(_dispatch, "_CUPY_ARRAY", (FakeDeviceArray,))
    monkeypatch.setattr(_runtime, "_cupy", None)
    return _ops


@pytest.fixture
def checked_gpu(fake_gpu, monkeypatch, harness):
    checker = LaunchChecker(harness)
    monkeypatch.setattr(_runtime, "_cupy", numpy_cupy())
    monkeypatch.setattr(_ops, "kernel", checker.kernel)
    return checker


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_front_end_launches_match_the_kernels_and_the_cpu(checked_gpu, rng, dtype):
    B, C, H, W, F, k, T = 12, 6, 4, 4, 20, 5, 15
    weight = rng.random((F, C, k, k)).astype(dtype)
    tmap = tmap_of(rng, (B, C, H, W), T, 0.5)
    active = rng.random(F) < 0.8
    got = _ops.max_potential_decide(dev(tmap), dev(weight), T, 2, dev(active))
    assert isinstance(got, FakeDeviceArray) and got.dtype == np.int32
    np.testing.assert_array_equal(got, snn.max_potential_decide(tmap, weight, T, 2, active))
    np.testing.assert_array_equal(_ops.max_potential_decide(dev(tmap), dev(weight), T, (2, 1)),
                                  snn.max_potential_decide(tmap, weight, T, (2, 1)))
    reward = snn.STDPConfig(0.0371, -0.0293, stabilize=True)
    punish = snn.STDPConfig(-0.0417, 0.0113, stabilize=True)
    labels, fclass = rng.integers(0, 4, B).astype(np.int32), (np.arange(F) % 4).astype(np.int16)
    big = np.zeros((F, C, k, 2 * k), dtype).view(FakeDeviceArray)
    view = big[..., ::2]  # strided: updated in place as on the CPU
    view[...] = weight
    out = _ops.max_potential_rstdp(dev(tmap), view, T, dev(labels), dev(fclass), reward, punish, 2, dev(active))
    w_cpu = weight.copy()
    ref = snn.max_potential_rstdp(tmap, w_cpu, T, labels, fclass, reward, punish, 2, active)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(view, w_cpu)
    assert not np.asarray(big[..., 1::2]).any() and not np.array_equal(w_cpu, weight)
    names = [name for name, *_ in checked_gpu.launches]
    assert names == ["wb_max_potential_decide"] * 2 + ["wb_max_potential_rstdp"]


@pytest.mark.parametrize("op", ["max_potential_decide", "max_potential_rstdp"])
def test_shared_memory_limit_is_a_clear_error_after_validation(fake_gpu, rng, op):
    reward, punish = configs(False)

    def call(tmap, weight):
        B, F = tmap.shape[0], weight.shape[0]
        extra = (dev(np.zeros(B, np.int64)), dev(np.zeros(F, np.int64)), reward, punish) if "rstdp" in op else ()
        return getattr(fake_gpu, op)(dev(tmap), dev(weight), 4, *extra)

    weight = rng.random((3, 64, 3, 3)).astype(np.float32)
    tmap = np.full((1, 64, 32, 32), 4, np.int32)  # 64 KiB of fired flags per sample
    snn.max_potential_decide(tmap, weight, 4)  # the CPU takes it
    with pytest.raises(ValueError, match="shared memory"):
        call(tmap, weight)
    # 44 KiB: fits beside the decide kernel's 256-thread reduction, not the R-STDP kernel's 1024
    tmap, weight = tmap[:, :44], weight[:, :44]
    if op == "max_potential_decide":
        with pytest.raises(RuntimeError, match=NO_CUPY):  # valid: reaches CuPy
            call(tmap, weight)
    else:
        with pytest.raises(ValueError, match="shared memory"):
            call(tmap, weight)
    with pytest.raises(ValueError, match="tmap values"):  # invalid input is reported first
        call(tmap + 1, weight)
    # the exact bound: what the kernel's layout needs, 48 KiB in all
    threads = fake_gpu.DECIDE_THREADS if op == "max_potential_decide" else fake_gpu.RSTDP_THREADS
    room = fake_gpu.SHARED_BYTES - threads * (4 + 4)  # float32 potentials, int32 indices
    w1 = np.ones((2, 1, 1, 1), np.float32)
    with pytest.raises(RuntimeError, match=NO_CUPY):
        call(np.zeros((1, 1, 1, room), np.int32), w1)
    with pytest.raises(ValueError, match="shared memory"):
        call(np.zeros((1, 1, 1, room + 1), np.int32), w1)


def test_front_end_validates_as_the_cpu(fake_gpu, rng):
    weight = dyadic_weights(rng, (4, 2, 3, 3), np.float32)
    tmap = np.zeros((2, 2, 4, 4), np.int32)
    labels, classes = np.zeros(2, np.int64), np.arange(4) % 2
    reward, punish = configs(False)
    cases = [
        ("decide", "tmap", (tmap.astype(np.int64), weight, 4)),
        ("decide", "channel", (np.zeros((2, 3, 4, 4), np.int32), weight, 4)),
        ("decide", "tmap", (tmap + 5, weight, 4)),
        ("decide", "weight", (tmap, np.full_like(weight, np.nan), 4)),
        ("decide", "active", (tmap, weight, 4, 0, np.ones(3, bool))),
        ("decide", "active", (tmap, weight, 4, 0, np.ones(4, np.uint8))),
        ("decide", "T", (tmap, weight, 0)),
        ("decide", "padding", (tmap, weight, 4, -1)),
        ("rstdp", "labels", (tmap, weight, 4, np.zeros(3, np.int64), classes, reward, punish)),
        ("rstdp", "labels", (tmap, weight, 4, labels.astype(float), classes, reward, punish)),
        ("rstdp", "feature_class", (tmap, weight, 4, labels, np.zeros(5, np.int64), reward, punish)),
        ("rstdp", "share upper",
         (tmap, weight, 4, labels, classes, reward, snn.STDPConfig(0.1, -0.1, False, 0.125, 1.0))),
        ("rstdp", "reward_config", (tmap, weight, 4, labels, classes, (0.1, -0.1), punish)),
    ]
    for op, argname, args in cases:
        name = "max_potential_" + op
        with pytest.raises((TypeError, ValueError)) as cpu_err:
            getattr(snn, name)(*args)
        with pytest.raises((TypeError, ValueError)) as gpu_err:
            getattr(fake_gpu, name)(*(dev(a) if isinstance(a, np.ndarray) else a for a in args))
        assert type(gpu_err.value) is type(cpu_err.value), (op, argname, cpu_err.value, gpu_err.value)
        assert argname in str(cpu_err.value) and argname in str(gpu_err.value), (str(cpu_err.value), str(gpu_err.value))
    # host arrays are refused by the GPU op (the public API reports the mix of devices)
    with pytest.raises(TypeError, match=r"labels must be a cupy\.ndarray"):
        fake_gpu.max_potential_rstdp(dev(tmap), dev(weight), 4, labels, dev(classes), reward, punish)
    with pytest.raises(TypeError, match=r"active must be a cupy\.ndarray"):
        fake_gpu.max_potential_decide(dev(tmap), dev(weight), 4, 0, np.ones(4, bool))
    frozen = dev(weight)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        fake_gpu.max_potential_rstdp(dev(tmap), frozen, 4, dev(labels), dev(classes), reward, punish)
    with pytest.raises(RuntimeError, match=NO_CUPY):  # valid: reaches CuPy
        fake_gpu.max_potential_rstdp(dev(tmap), dev(weight), 4, dev(labels), dev(classes), reward, punish, 1,
                                     dev(np.ones(4, bool)))
