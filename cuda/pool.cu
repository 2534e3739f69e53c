// Padding and max pooling on time maps: on a cumulative wave max pooling keeps the earliest
// spike of each window, i.e. the minimum first-spike time; padding never fires (time T).
#include "common.cuh"

extern "C" __global__ void wb_pool_timemap(const int* __restrict__ tmap, int* __restrict__ out, int BC, int H,
                                           int W, int KH, int KW, int SY, int SX, int PY, int PX, int OH, int OW,
                                           int T) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)BC * OH * OW) return;
    int ox = (int)(i % OW), oy = (int)((i / OW) % OH);
    idx_t bc = i / ((idx_t)OH * OW);
    int best = T;
    for (int ky = 0; ky < KH; ++ky) {
        int iy = oy * SY - PY + ky;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < KW; ++kx) {
            int ix = ox * SX - PX + kx;
            if (ix < 0 || ix >= W) continue;
            int t = tmap[(bc * H + iy) * W + ix];
            best = t < best ? t : best;
        }
    }
    out[i] = best;
}

extern "C" __global__ void wb_pad_timemap(const int* __restrict__ tmap, int* __restrict__ out, int BC, int H, int W,
                                          int top, int left, int OH, int OW, int T) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)BC * OH * OW) return;
    int ox = (int)(i % OW), oy = (int)((i / OW) % OH);
    idx_t bc = i / ((idx_t)OH * OW);
    int iy = oy - top, ix = ox - left;
    out[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? tmap[(bc * H + iy) * W + ix] : T;
}
