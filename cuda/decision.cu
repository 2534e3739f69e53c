// Max-potential decision layer (Mozafari et al. 2019) and its online R-STDP; the CPU twin is
// core_cython/decision.pyx, whose docstrings give the semantics.
//
// A decision neuron (f, oy, ox) has no threshold: its final potential is the sum of the
// weights of the inputs of its window that fired at all (time < T).  The winner of a sample
// is the largest positive potential of an active feature, ties going to the first in
// (feature, y, x) order, i.e. the smallest flat index f * P + p (P = OH * OW).
//
// Weights are laid out (C, KH, KW, F) as on the CPU, so the threads of a warp, which hold
// consecutive features of one position, read consecutive weights.
//
// Parity with the CPU core.  Each potential is ONE running sum, from 0, over the fired
// inputs in (c, ky, kx) order -- the order in which the CPU adds each weight row into its
// potentials -- so it is bit-identical whatever the weights.  The argmax keeps, per thread
// and then through a tree over the block, the larger potential or on a tie the smaller flat
// index: the result is the CPU's first maximum whatever the split over threads.  The R-STDP
// update is the CPU's expression, compiled with --fmad=false (no FMA contraction).
//
// Potentials are never stored: each thread keeps only its running best, so any number of
// neurons F * OH * OW fits; dynamic shared memory holds the block's reduction arrays and the
// sample's fired flags (C * H * W bytes; the host checks that they fit).
//
// The per-element work lives in __host__ __device__ functions so that
// tests/cuda/test_decision_host.py compiles this file with a host main and runs the same
// code, thread split and reduction tree included, against the CPU core.
#include "common.cuh"
#if defined(__CUDACC__)
#define WB_HD __host__ __device__
#else
#define WB_HD
#endif

// Did input j (flat (c, y, x)) of sample b fire?  T = never fired.
WB_HD inline unsigned char wb_dec_fired(const int* tmap, idx_t b, idx_t j, idx_t chw, int T) {
    return tmap[b * chw + j] < T ? 1 : 0;
}

// Final potential of neuron (f, oy, ox): weights of its fired inputs added in (c, ky, kx)
// order, padding never firing.  `wt` is not __restrict__: the R-STDP kernel writes it.
WB_HD inline real_t wb_dec_potential(const real_t* wt, const unsigned char* fired, int f, int oy, int ox, int C,
                                     int H, int W, int KH, int KW, int F, int PY, int PX) {
    real_t acc = (real_t)0;
    for (int c = 0; c < C; ++c) {
        for (int u = 0; u < KH; ++u) {
            const int y = oy + u - PY;
            if (y < 0 || y >= H) continue;
            for (int v = 0; v < KW; ++v) {
                const int x = ox + v - PX;
                if (x < 0 || x >= W || !fired[((idx_t)c * H + y) * W + x]) continue;
                acc += wt[(((idx_t)c * KH + u) * KW + v) * F + f];
            }
        }
    }
    return acc;
}

// Merge candidate (v, idx) into the running best (top, best); best < 0: none yet, top 0.
// Only positive potentials qualify (strict >, as the CPU's scan from 0); on equal
// potentials the smaller flat index wins, which makes the result independent of the order
// in which candidates are merged.  idx < 0 (an empty candidate) changes nothing.
WB_HD inline void wb_dec_merge(real_t& top, int& best, real_t v, int idx) {
    if (idx < 0) return;
    if (v > top || (best >= 0 && v == top && idx < best)) {
        top = v;
        best = idx;
    }
}

// Best active neuron among those of thread `tid` of `nthreads`: flat pairs j = p * F + f
// (features fastest, for coalesced weight reads) for j = tid, tid + nthreads, ...
// Inactive features are skipped (never computed).
WB_HD inline void wb_dec_thread_best(int tid, int nthreads, const real_t* wt, const unsigned char* fired,
                                     const unsigned char* active, int C, int H, int W, int KH, int KW, int F,
                                     int PY, int PX, int OH, int OW, real_t& top, int& best) {
    const int P = OH * OW;
    const idx_t n = (idx_t)F * P;
    top = (real_t)0;
    best = -1;
    for (idx_t j = tid; j < n; j += nthreads) {
        const int f = (int)(j % F), p = (int)(j / F);
        if (!active[f]) continue;
        const real_t v = wb_dec_potential(wt, fired, f, p / OW, p % OW, C, H, W, KH, KW, F, PY, PX);
        wb_dec_merge(top, best, v, f * P + p);
    }
}

// One step of the block's tree reduction: slot tid takes the better of itself and tid + stride.
WB_HD inline void wb_dec_reduce_step(real_t* top, int* best, int tid, int stride) {
    wb_dec_merge(top[tid], best[tid], top[tid + stride], best[tid + stride]);
}

// Row (feature, y, x) of sample b from the winning flat index; (-1, 0, 0): undecided.
WB_HD inline void wb_dec_write(int* out, idx_t b, int best, int P, int OW) {
    if (best < 0) {
        out[b * 3] = -1;
        out[b * 3 + 1] = 0;
        out[b * 3 + 2] = 0;
    } else {
        out[b * 3] = best / P;
        out[b * 3 + 1] = (best % P) / OW;
        out[b * 3 + 2] = (best % P) % OW;
    }
}

// R-STDP on element k (flat (c, ky, kx)) of the kernel of winner (f, oy, ox): a_fired for
// an input that fired (it fired before the decision, taken at the last step), a_silent for
// a silent or padded one; dw = a or, stabilised, a (w - lower)(upper - w); then clipped.
// The expression and its evaluation order are the CPU's.
WB_HD inline void wb_dec_update_one(real_t* wt, const unsigned char* fired, int k, int f, int oy, int ox,
                                    real_t a_fired, real_t a_silent, real_t lower, real_t upper, int stabilize,
                                    int H, int W, int KH, int KW, int F, int PY, int PX) {
    const int v = k % KW, u = (k / KW) % KH, c = k / (KW * KH);
    const int y = oy + u - PY, x = ox + v - PX;
    const bool in = y >= 0 && y < H && x >= 0 && x < W && fired[((idx_t)c * H + y) * W + x];
    const real_t a = in ? a_fired : a_silent;
    real_t* slot = wt + (idx_t)k * F + f;
    real_t w = *slot;
    if (stabilize) {
        w = w + a * (w - lower) * (upper - w);
    } else {
        w = w + a;
    }
    if (w < lower) {
        w = lower;
    } else if (w > upper) {
        w = upper;
    }
    *slot = w;
}

#if defined(__CUDACC__)
// Dynamic shared memory: real_t top[blockDim.x], int best[blockDim.x], uchar fired[C*H*W].
// blockDim.x must be a power of two (tree reduction).
extern __shared__ __align__(16) unsigned char wb_dec_smem[];

// Fired flags of sample b into shared memory, then the block's winner into best[0].
// Ends with a __syncthreads: every thread may read top[0] / best[0] afterwards.
__device__ inline void wb_dec_block_decide(const real_t* wt, const int* tmap, const unsigned char* active, idx_t b,
                                           int T, int C, int H, int W, int KH, int KW, int F, int PY, int PX,
                                           int OH, int OW, real_t* top, int* best, unsigned char* fired) {
    const int tid = threadIdx.x, nt = blockDim.x;
    const idx_t chw = (idx_t)C * H * W;
    for (idx_t j = tid; j < chw; j += nt) fired[j] = wb_dec_fired(tmap, b, j, chw, T);
    __syncthreads();
    real_t t;
    int i;
    wb_dec_thread_best(tid, nt, wt, fired, active, C, H, W, KH, KW, F, PY, PX, OH, OW, t, i);
    top[tid] = t;
    best[tid] = i;
    __syncthreads();
    for (int s = nt / 2; s > 0; s >>= 1) {
        if (tid < s) wb_dec_reduce_step(top, best, tid, s);
        __syncthreads();
    }
}

// One block per sample.  out: (B, 3) int32.
extern "C" __global__ void wb_max_potential_decide(const real_t* __restrict__ wt, const int* __restrict__ tmap,
                                                   const unsigned char* __restrict__ active, int* __restrict__ out,
                                                   int T, int C, int H, int W, int KH, int KW, int F, int PY, int PX,
                                                   int OH, int OW) {
    real_t* top = (real_t*)wb_dec_smem;
    int* best = (int*)(top + blockDim.x);
    unsigned char* fired = (unsigned char*)(best + blockDim.x);
    const idx_t b = blockIdx.x;
    wb_dec_block_decide(wt, tmap, active, b, T, C, H, W, KH, KW, F, PY, PX, OH, OW, top, best, fired);
    if (threadIdx.x == 0) wb_dec_write(out, b, best[0], OH * OW, OW);
}

// Online learning: ONE block walks the B samples in order (each is decided with the
// weights its predecessors left).  Per sample: fired flags, potentials and block argmax,
// then the winner's C * KH * KW weights are updated by the threads, split over (c, ky, kx).
// wt (C, KH, KW, F) is updated in place; feature_class (F,) and labels (B,) are int64.
extern "C" __global__ void __launch_bounds__(1024)
    wb_max_potential_rstdp(real_t* wt, const int* __restrict__ tmap, const unsigned char* __restrict__ active,
                           const long long* __restrict__ feature_class, const long long* __restrict__ labels,
                           int* __restrict__ out, int B, int T, int C, int H, int W, int KH, int KW, int F, int PY,
                           int PX, int OH, int OW, real_t reward_plus, real_t reward_minus, real_t punish_plus,
                           real_t punish_minus, real_t lower, real_t upper, int stabilize) {
    real_t* top = (real_t*)wb_dec_smem;
    int* best = (int*)(top + blockDim.x);
    unsigned char* fired = (unsigned char*)(best + blockDim.x);
    const int P = OH * OW, K = C * KH * KW;
    for (int b = 0; b < B; ++b) {
        wb_dec_block_decide(wt, tmap, active, b, T, C, H, W, KH, KW, F, PY, PX, OH, OW, top, best, fired);
        const int win = best[0];
        if (threadIdx.x == 0) wb_dec_write(out, b, win, P, OW);
        if (win >= 0) {
            const int f = win / P, oy = (win % P) / OW, ox = (win % P) % OW;
            const bool rewarded = feature_class[f] == labels[b];
            const real_t a_fired = rewarded ? reward_plus : punish_plus;
            const real_t a_silent = rewarded ? reward_minus : punish_minus;
            for (int k = threadIdx.x; k < K; k += blockDim.x)
                wb_dec_update_one(wt, fired, k, f, oy, ox, a_fired, a_silent, lower, upper, stabilize, H, W, KH,
                                  KW, F, PY, PX);
        }
        // The next sample overwrites fired/top/best and reads the updated weights.
        __syncthreads();
    }
}
#endif
