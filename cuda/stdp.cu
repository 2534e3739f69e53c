// STDP / R-STDP on convolution kernels (fully connected layers are 1x1 convolutions).
// One thread per weight element (f, c, ky, kx) walks the winners in order and applies those
// of its feature, so the batch result equals the sequential per-winner updates exactly.
// Per-winner learning rates (a_plus[n], a_minus[n]) let R-STDP pick reward or punishment.
#include "common.cuh"

extern "C" __global__ void wb_stdp(real_t* __restrict__ weight, const int* __restrict__ pre_tmap,
                                   const int* __restrict__ winners, const real_t* __restrict__ a_plus,
                                   const real_t* __restrict__ a_minus, int n_winners, int stabilize, real_t lower,
                                   real_t upper, int F, int C, int H, int W, int KH, int KW, int SY, int SX, int PY,
                                   int PX) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    const idx_t per_f = (idx_t)C * KH * KW;
    if (i >= (idx_t)F * per_f) return;
    const int f = (int)(i / per_f);
    const int c = (int)((i / (KH * KW)) % C), ky = (int)((i / KW) % KH), kx = (int)(i % KW);
    real_t w = weight[i];
    for (int n = 0; n < n_winners; ++n) {
        const int* row = winners + (idx_t)n * 5;
        if (row[1] != f) continue;
        const idx_t b = row[0];
        const int t = row[2], iy = row[3] * SY - PY + ky, ix = row[4] * SX - PX + kx;
        bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        // Padding never fires, so it is treated like a silent input (depression).
        bool causal = inside && pre_tmap[((b * C + c) * (idx_t)H + iy) * W + ix] <= t;
        real_t a = causal ? a_plus[n] : a_minus[n];
        w += stabilize ? a * (w - lower) * (upper - w) : a;
        w = w < lower ? lower : (w > upper ? upper : w);
    }
    weight[i] = w;
}
