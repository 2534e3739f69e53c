// k-winners-take-all over (tmap, spike_pot) (B, C, H, W).  One block per sample: k rounds
// of a block-wide arg-best (earliest time, then larger potential, then lowest flat index),
// after each the winner's feature map and the (2r+1)^2 neighbourhood in every feature are
// excluded.  Output rows (batch, feature, time, y, x); unused rows are -1.
#include "common.cuh"
#define WB_WTA_THREADS 256

struct Cand { int t; real_t v; idx_t j; };

__device__ __forceinline__ bool wb_better(const Cand& a, const Cand& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.v != b.v) return a.v > b.v;
    return a.j < b.j;
}

extern "C" __global__ void wb_conv_wta(const int* __restrict__ tmap, const real_t* __restrict__ spike_pot,
                                       unsigned char* __restrict__ excluded, int* __restrict__ winners, int C,
                                       int H, int W, int T, int RY, int RX, int K) {
    __shared__ int s_t[WB_WTA_THREADS];
    __shared__ real_t s_v[WB_WTA_THREADS];
    __shared__ idx_t s_j[WB_WTA_THREADS];
    const idx_t b = blockIdx.x;
    const idx_t N = (idx_t)C * H * W, HW = (idx_t)H * W;
    const int* tm = tmap + b * N;
    const real_t* sp = spike_pot + b * N;
    unsigned char* ex = excluded + b * N;  // zero-initialised by the host
    for (int k = 0; k < K; ++k) {
        Cand best = {T, (real_t)0, N};
        for (idx_t j = threadIdx.x; j < N; j += blockDim.x) {
            if (ex[j] || tm[j] >= T) continue;
            Cand c = {tm[j], sp[j], j};
            if (wb_better(c, best)) best = c;
        }
        s_t[threadIdx.x] = best.t; s_v[threadIdx.x] = best.v; s_j[threadIdx.x] = best.j;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                Cand a = {s_t[threadIdx.x], s_v[threadIdx.x], s_j[threadIdx.x]};
                Cand o = {s_t[threadIdx.x + s], s_v[threadIdx.x + s], s_j[threadIdx.x + s]};
                if (wb_better(o, a)) { s_t[threadIdx.x] = o.t; s_v[threadIdx.x] = o.v; s_j[threadIdx.x] = o.j; }
            }
            __syncthreads();
        }
        const idx_t wj = s_j[0];
        const int wt = s_t[0];
        __syncthreads();
        int* row = winners + (b * K + k) * 5;
        if (wt >= T) {  // nothing left: fill the remaining rows with -1
            if (threadIdx.x == 0)
                for (int r = k; r < K; ++r)
                    for (int q = 0; q < 5; ++q) winners[(b * K + r) * 5 + q] = -1;
            return;
        }
        const int wc = (int)(wj / HW), wy = (int)((wj % HW) / W), wx = (int)(wj % W);
        if (threadIdx.x == 0) { row[0] = (int)b; row[1] = wc; row[2] = wt; row[3] = wy; row[4] = wx; }
        for (idx_t p = threadIdx.x; p < HW; p += blockDim.x) ex[(idx_t)wc * HW + p] = 1;
        const int wy0 = max(0, wy - RY), wy1 = min(H - 1, wy + RY), wx0 = max(0, wx - RX), wx1 = min(W - 1, wx + RX);
        const int ww = wx1 - wx0 + 1, wh = wy1 - wy0 + 1;
        for (idx_t q = threadIdx.x; q < (idx_t)C * wh * ww; q += blockDim.x) {
            int c = (int)(q / (wh * ww)), rem = (int)(q % (wh * ww));
            ex[(idx_t)c * HW + (idx_t)(wy0 + rem / ww) * W + (wx0 + rem % ww)] = 1;
        }
        __syncthreads();
    }
}
