// Convolution over spike time maps.  A cumulative wave is fully described by its time map,
// so one thread per output neuron replays the input spikes of its receptive field step by
// step and integrates them into one running potential.  WB_T (the number of time steps) is
// a compile-time constant.
//
// Summation order (spike parity with the CPU core).  core_cython/conv.pyx accumulates each
// output potential as ONE running sum over the input spikes in (step, channel, input row,
// input column) order, starting from 0, with plain additions.  The functions below add the
// same weights into one accumulator in the same order: pass k over the receptive field
// adds, in (channel, row, column) order, the weights of the inputs whose first spike is at
// step t_k and finds the next step t_{k+1}.  Only additions are involved (no products, so
// no FMA contraction), and IEEE single/double additions round identically on the host and
// the device, so potentials -- and therefore first-spike times, also where a potential is
// within rounding of the threshold -- are bit-identical to the CPU's.  Cost: one pass over
// the receptive field per distinct input spike step (+1), instead of one pass in total for
// a per-step histogram (the earlier scheme, whose rounding differed from the CPU's).
//
// The per-neuron functions are __host__ __device__ so that tests/cuda can compile and run
// exactly this code on the host (nvcc, no GPU) against the CPU core.
#include "common.cuh"
#ifndef WB_T
#define WB_T 15
#endif
#if defined(__CUDACC__)
#define WB_HD __host__ __device__
#else
#define WB_HD
#endif

// One pass over the receptive field of output (b, f, oy, ox): adds into acc the weights of
// the inputs that first fire at step t, in (c, iy, ix) order; returns the earliest input
// step after t (WB_T if none).  Inputs at WB_T (never fired) and padding never count.
WB_HD inline int wb_conv_pass(const int* __restrict__ tmap, const real_t* __restrict__ weight, real_t& acc,
                              int t, idx_t b, int f, int oy, int ox, int C, int H, int W, int KH, int KW,
                              int SY, int SX, int PY, int PX) {
    int next = WB_T;
    for (int c = 0; c < C; ++c) {
        const int* tm = tmap + ((b * C + c) * (idx_t)H) * W;
        const real_t* wk = weight + ((idx_t)f * C + c) * KH * KW;
        for (int ky = 0; ky < KH; ++ky) {
            const int iy = oy * SY - PY + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < KW; ++kx) {
                const int ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                const int s = tm[(idx_t)iy * W + ix];
                if (s == t) {
                    acc += wk[ky * KW + kx];
                } else if (s > t && s < next) {
                    next = s;
                }
            }
        }
    }
    return next;
}

// Position (b, f, oy, ox) of flat output index i of (B, F, OH, OW).
WB_HD inline void wb_conv_decode(idx_t i, int F, int OH, int OW, idx_t& b, int& f, int& oy, int& ox) {
    const idx_t plane = (idx_t)OH * OW;
    ox = (int)(i % OW);
    oy = (int)((i / OW) % OH);
    f = (int)((i / plane) % F);
    b = i / (plane * F);
}

// Dense potentials of output neuron i: out[b, t, f, oy, ox] for every step t.
WB_HD inline void wb_conv_dense_one(idx_t i, const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                    real_t* __restrict__ out, int C, int H, int W, int F, int KH, int KW, int SY,
                                    int SX, int PY, int PX, int OH, int OW) {
    idx_t b;
    int f, oy, ox;
    wb_conv_decode(i, F, OH, OW, b, f, oy, ox);
    real_t acc = (real_t)0;
    int s = 0;  // next step to write
    int t = wb_conv_pass(tmap, weight, acc, -1, b, f, oy, ox, C, H, W, KH, KW, SY, SX, PY, PX);  // first step
    for (;;) {
        for (; s < t && s < WB_T; ++s) out[(((b * WB_T + s) * F + f) * (idx_t)OH + oy) * OW + ox] = acc;
        if (t >= WB_T) break;
        t = wb_conv_pass(tmap, weight, acc, t, b, f, oy, ox, C, H, W, KH, KW, SY, SX, PY, PX);
    }
}

// Event-driven conv + fire of output neuron i: the first step whose potential exceeds
// `threshold` (else WB_T) and the potential at that step (0 when it never fires).
WB_HD inline void wb_conv_fire_one(idx_t i, const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                   int* __restrict__ out_tmap, real_t* __restrict__ out_pot, real_t threshold,
                                   int C, int H, int W, int F, int KH, int KW, int SY, int SX, int PY, int PX,
                                   int OH, int OW) {
    idx_t b;
    int f, oy, ox;
    wb_conv_decode(i, F, OH, OW, b, f, oy, ox);
    real_t acc = (real_t)0;
    int first = WB_T;
    real_t at = (real_t)0;
    int t = wb_conv_pass(tmap, weight, acc, -1, b, f, oy, ox, C, H, W, KH, KW, SY, SX, PY, PX);
    if (t > 0 && (real_t)0 > threshold) {
        first = 0;  // the potential is 0 until the first input spike, already above a negative threshold
    } else {
        while (t < WB_T) {
            const int next = wb_conv_pass(tmap, weight, acc, t, b, f, oy, ox, C, H, W, KH, KW, SY, SX, PY, PX);
            if (acc > threshold) {
                first = t;
                at = acc;
                break;
            }
            t = next;
        }
    }
    out_tmap[i] = first;
    out_pot[i] = at;
}

// Dense: potentials (B, T, F, OH, OW) of the cumulative wave given by tmap (B, C, H, W).
extern "C" __global__ void wb_conv_dense(const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                         real_t* __restrict__ out, int B, int C, int H, int W, int F, int KH,
                                         int KW, int SY, int SX, int PY, int PX, int OH, int OW) {
    const idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * F * OH * OW) return;
    wb_conv_dense_one(i, tmap, weight, out, C, H, W, F, KH, KW, SY, SX, PY, PX, OH, OW);
}

// Event-driven conv + fire: (B, F, OH, OW) first-spike steps and potentials at them.
extern "C" __global__ void wb_conv_fire(const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                        int* __restrict__ out_tmap, real_t* __restrict__ out_pot, real_t threshold,
                                        int B, int C, int H, int W, int F, int KH, int KW, int SY, int SX, int PY,
                                        int PX, int OH, int OW) {
    const idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * F * OH * OW) return;
    wb_conv_fire_one(i, tmap, weight, out_tmap, out_pot, threshold, C, H, W, F, KH, KW, SY, SX, PY, PX, OH, OW);
}
