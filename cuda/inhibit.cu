// Pointwise (feature-wise) inhibition: at each (b, y, x) only the feature with the earliest
// first spike survives; ties go to the larger potential at that step, then to the lower
// feature index.  Positions where nothing fires keep nothing.
#include "common.cuh"

// Winner feature per position from (tmap, spike_pot) (B, C, H, W); -1 where nothing fires.
extern "C" __global__ void wb_inhibit_winner(const int* __restrict__ tmap, const real_t* __restrict__ spike_pot,
                                             int* __restrict__ winner, int B, int C, idx_t HW, int T) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * HW) return;
    idx_t b = i / HW, p = i % HW;
    int best = -1, best_t = T;
    real_t best_v = (real_t)0;
    for (int c = 0; c < C; ++c) {
        idx_t j = (b * C + c) * HW + p;
        int t = tmap[j];
        if (t >= T) continue;
        real_t v = spike_pot[j];
        if (t < best_t || (t == best_t && v > best_v)) { best = c; best_t = t; best_v = v; }
    }
    winner[i] = best;
}

// Event-driven: losers become "never fired".
extern "C" __global__ void wb_inhibit_timemap(int* __restrict__ tmap, real_t* __restrict__ spike_pot,
                                              const int* __restrict__ winner, int B, int C, idx_t HW, int T) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * C * HW) return;
    idx_t p = i % HW, b = i / (C * HW);
    int c = (int)((i / HW) % C);
    if (winner[b * HW + p] != c) { tmap[i] = T; spike_pot[i] = (real_t)0; }
}

// Dense: zero the potentials (B, T, C, H, W) of losers at every step.
extern "C" __global__ void wb_inhibit_dense(real_t* __restrict__ pot, const int* __restrict__ winner, int B, int T,
                                            int C, idx_t HW) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * T * C * HW) return;
    idx_t p = i % HW;
    int c = (int)((i / HW) % C);
    idx_t b = i / (HW * C * T);
    if (winner[b * HW + p] != c) pot[i] = (real_t)0;
}
