// Spike coding on the GPU: gather / scatter between cumulative waves and time maps,
// rank-order time assignment, forced firing at the last step.
#include "common.cuh"

// wave (B, T, N) uint8 cumulative -> tmap (B, N) int32: first t with wave == 1, else T.
extern "C" __global__ void wb_gather(const unsigned char* __restrict__ wave, int* __restrict__ tmap,
                                     int B, int T, idx_t N) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * N) return;
    idx_t b = i / N, n = i % N;
    int first = T;
    for (int t = 0; t < T; ++t) {
        if (wave[(b * T + t) * N + n]) { first = t; break; }
    }
    tmap[i] = first;
}

// tmap (B, N) -> wave (B, T, N): wave[b, t, n] = (tmap[b, n] <= t).
extern "C" __global__ void wb_scatter(const int* __restrict__ tmap, unsigned char* __restrict__ wave,
                                      int B, int T, idx_t N) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * T * N) return;
    idx_t n = i % N;
    idx_t bt = i / N;
    int t = (int)(bt % T);
    idx_t b = bt / T;
    wave[i] = tmap[b * N + n] <= t ? 1 : 0;
}

// Rank coding, given each sample's values sorted in descending order (order[b, r] = index of
// the r-th largest value) and the count n_active[b] of values above the sample's minimum:
// rank r < n_active[b] fires at step trunc(r * ((T + 1e-5) / n_active[b])) in float32, the
// CPU core's (and Spyker's) arithmetic, so bins agree bit for bit; the rest never fire.
extern "C" __global__ void wb_rank_times(const long long* __restrict__ order, const int* __restrict__ n_active,
                                         int* __restrict__ tmap, int B, int T, idx_t N) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * N) return;
    idx_t b = i / N, r = i % N;
    int na = n_active[b];
    int t = T;
    if (r < na) {
        float scale = __fdiv_rn((float)T + 1e-5f, (float)na);
        t = (int)__fmul_rn((float)r, scale);
        if (t > T) t = T;  // as the CPU core: rounding may push the last ranks to "never"
    }
    tmap[b * N + order[i]] = t;
}

// Neurons that never fired are forced to fire at the last step.
extern "C" __global__ void wb_infinite(int* __restrict__ tmap, int T, idx_t total) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total && tmap[i] >= T) tmap[i] = T - 1;
}
