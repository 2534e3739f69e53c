// Filter banks (DoG, Gabor, LoG): 2-D cross-correlation of images (B, C, H, W) with a bank
// (F, C, KH, KW), zero padding.  Filter kernels are small (<= 31x31), so a direct loop per
// output pixel is memory-bound and simple; the bank is read through the read-only cache.
#include "common.cuh"

extern "C" __global__ void wb_correlate2d(const real_t* __restrict__ img, const real_t* __restrict__ bank,
                                          real_t* __restrict__ out, int B, int C, int H, int W, int F, int KH,
                                          int KW, int PY, int PX, int OH, int OW) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    idx_t plane = (idx_t)OH * OW;
    if (i >= (idx_t)B * F * plane) return;
    int ox = (int)(i % OW), oy = (int)((i / OW) % OH), f = (int)((i / plane) % F);
    idx_t b = i / (plane * F);
    real_t acc = (real_t)0;
    for (int c = 0; c < C; ++c) {
        const real_t* im = img + (b * C + c) * (idx_t)H * W;
        const real_t* k = bank + ((idx_t)f * C + c) * KH * KW;
        for (int ky = 0; ky < KH; ++ky) {
            int iy = oy - PY + ky;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < KW; ++kx) {
                int ix = ox - PX + kx;
                if (ix < 0 || ix >= W) continue;
                acc += im[(idx_t)iy * W + ix] * __ldg(k + ky * KW + kx);
            }
        }
    }
    out[i] = acc;
}
