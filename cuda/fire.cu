// Thresholding and firing of dense per-step potentials (B, T, N).
#include "common.cuh"

// Cumulative rank firing: wave[b, t, n] = 1 iff potential[b, t', n] > threshold for some t' <= t.
// Also returns the time map and the potential at the first-spike step.
extern "C" __global__ void wb_first_spike(const real_t* __restrict__ pot, int* __restrict__ tmap,
                                          real_t* __restrict__ spike_pot, unsigned char* __restrict__ wave,
                                          real_t threshold, int B, int T, idx_t N) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * N) return;
    idx_t b = i / N, n = i % N;
    int first = T;
    real_t at = (real_t)0;
    for (int t = 0; t < T; ++t) {
        real_t v = pot[(b * T + t) * N + n];
        if (first == T && v > threshold) { first = t; at = v; }
        if (wave) wave[(b * T + t) * N + n] = first <= t ? 1 : 0;
    }
    tmap[i] = first;
    spike_pot[i] = at;
}

// Rate firing with the CPU core's (Spyker's) rule: a spike whenever the potential exceeds the
// potential at the neuron's previous spike (0 initially) by more than the threshold, at most
// one spike per step; the wave holds the cumulative spike count.
extern "C" __global__ void wb_fire_rate(const real_t* __restrict__ pot, unsigned char* __restrict__ counts,
                                        real_t threshold, int B, int T, idx_t N) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (idx_t)B * N) return;
    idx_t b = i / N, n = i % N;
    real_t level = (real_t)0;
    unsigned char count = 0;
    for (int t = 0; t < T; ++t) {
        real_t v = pot[(b * T + t) * N + n];
        if (level + threshold < v) { level = v; ++count; }
        counts[(b * T + t) * N + n] = count;
    }
}

// threshold: entries <= threshold become `value`.  quantize: x < middle -> lower, else upper.
extern "C" __global__ void wb_threshold(real_t* __restrict__ x, real_t threshold, real_t value, idx_t total) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total && x[i] <= threshold) x[i] = value;
}

extern "C" __global__ void wb_quantize(real_t* __restrict__ x, real_t lower, real_t middle, real_t upper,
                                       idx_t total) {
    idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) x[i] = x[i] < middle ? lower : upper;
}
