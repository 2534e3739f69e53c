// Convolution over spike time maps.  A cumulative wave is fully described by its time map,
// so each output neuron accumulates, per time step, the weights of the inputs that first
// fire at that step (a T-bin histogram), then integrates over time.  WB_T (the number of
// time steps) is a compile-time constant: the histogram is a per-thread array (registers or
// local memory; the host caps T).
#include "common.cuh"
#ifndef WB_T
#define WB_T 15
#endif

__device__ __forceinline__ void wb_conv_hist(const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                             real_t* hist, idx_t b, int f, int oy, int ox, int C, int H, int W,
                                             int KH, int KW, int SY, int SX, int PY, int PX) {
    for (int t = 0; t < WB_T; ++t) hist[t] = (real_t)0;
    for (int c = 0; c < C; ++c) {
        const int* tm = tmap + ((b * C + c) * (idx_t)H) * W;
        const real_t* wk = weight + ((idx_t)f * C + c) * KH * KW;
        for (int ky = 0; ky < KH; ++ky) {
            int iy = oy * SY - PY + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < KW; ++kx) {
                int ix = ox * SX - PX + kx;
                if (ix < 0 || ix >= W) continue;
                int t = tm[(idx_t)iy * W + ix];
                if ((unsigned)t < (unsigned)WB_T) hist[t] += wk[ky * KW + kx];  // T and beyond: silent
            }
        }
    }
}

// One output neuron per thread: decode flat index i of (B, F, OH, OW), fill its histogram.
__device__ __forceinline__ void wb_conv_hist_at(idx_t i, const int* __restrict__ tmap,
                                                const real_t* __restrict__ weight, real_t* hist, idx_t& b,
                                                int& f, int& oy, int& ox, int C, int H, int W, int F, int KH,
                                                int KW, int SY, int SX, int PY, int PX, int OH, int OW) {
    const idx_t plane = (idx_t)OH * OW;
    ox = (int)(i % OW);
    oy = (int)((i / OW) % OH);
    f = (int)((i / plane) % F);
    b = i / (plane * F);
    wb_conv_hist(tmap, weight, hist, b, f, oy, ox, C, H, W, KH, KW, SY, SX, PY, PX);
}

// Dense: potentials (B, T, F, OH, OW) of the cumulative wave given by tmap (B, C, H, W).
extern "C" __global__ void wb_conv_dense(const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                         real_t* __restrict__ out, int B, int C, int H, int W, int F, int KH,
                                         int KW, int SY, int SX, int PY, int PX, int OH, int OW) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * F * OH * OW) return;
    idx_t b;
    int f, oy, ox;
    real_t hist[WB_T];
    wb_conv_hist_at(i, tmap, weight, hist, b, f, oy, ox, C, H, W, F, KH, KW, SY, SX, PY, PX, OH, OW);
    real_t acc = (real_t)0;
    for (int t = 0; t < WB_T; ++t) {
        acc += hist[t];
        out[(((b * WB_T + t) * F + f) * (idx_t)OH + oy) * OW + ox] = acc;
    }
}

// Event-driven conv + fire: first step whose potential exceeds `threshold` (else T) and the
// potential at that step (0 when the neuron never fires).
extern "C" __global__ void wb_conv_fire(const int* __restrict__ tmap, const real_t* __restrict__ weight,
                                        int* __restrict__ out_tmap, real_t* __restrict__ out_pot, real_t threshold,
                                        int B, int C, int H, int W, int F, int KH, int KW, int SY, int SX, int PY,
                                        int PX, int OH, int OW) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * F * OH * OW) return;
    idx_t b;
    int f, oy, ox;
    real_t hist[WB_T];
    wb_conv_hist_at(i, tmap, weight, hist, b, f, oy, ox, C, H, W, F, KH, KW, SY, SX, PY, PX, OH, OW);
    real_t acc = (real_t)0;
    int first = WB_T;
    real_t at = (real_t)0;
    for (int t = 0; t < WB_T; ++t) {
        acc += hist[t];
        if (acc > threshold) { first = t; at = acc; break; }
    }
    out_tmap[i] = first;
    out_pot[i] = at;
}
