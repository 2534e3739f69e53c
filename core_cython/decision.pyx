# cython: language_level=3
"""Max-potential decision layer with online R-STDP (inner loops only; ``workbench.snn._decision``
validates).

A decision neuron without threshold integrates every input spike; the neuron (feature,
position) with the largest final potential decides.  Only the final potential matters,
so it is the sum of the weights of the inputs that fired at all, accumulated here from
the inputs that fired (event-driven: at the 30% input density of Mozafari et al.
2019's network, about 6x fewer operations than a dense convolution).

Weights are laid out ``(C, kh, kw, F)`` so that one fired input adds one contiguous
F-vector per output position (vectorised inner loop).
"""

from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free

ctypedef fused weight_t:
    float
    double

cdef extern from *:
    """
    /* restrict: the potentials never alias the weights, which lets the compiler vectorise;
       target_clones: an AVX2 version is picked at load time where the CPU has it (the
       build itself targets baseline x86-64).  The adds are elementwise, so every clone gives
       the same result. */
    #if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    #define WB_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define WB_CLONES
    #endif
    WB_CLONES static void wb_add_f(float *restrict dst, const float *restrict src, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; ++i) dst[i] += src[i];
    }
    WB_CLONES static void wb_add_d(double *restrict dst, const double *restrict src, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; ++i) dst[i] += src[i];
    }
    """
    void wb_add_f(float* dst, const float* src, Py_ssize_t n) noexcept nogil
    void wb_add_d(double* dst, const double* src, Py_ssize_t n) noexcept nogil


cdef inline void _fired_map(const int[:, :, :, ::1] tmap, Py_ssize_t b, int T,
                            unsigned char* fired) noexcept nogil:
    """fired[(c * H + y) * W + x] = input of sample ``b`` fired (time < T)."""
    cdef Py_ssize_t C = tmap.shape[1], H = tmap.shape[2], W = tmap.shape[3]
    cdef Py_ssize_t c, y, x, j = 0
    for c in range(C):
        for y in range(H):
            for x in range(W):
                fired[j] = tmap[b, c, y, x] < T
                j += 1


cdef inline void _accumulate(const weight_t[:, :, :, ::1] wt, weight_t* pot, const unsigned char* fired,
                             Py_ssize_t H, Py_ssize_t W, int pad_y, int pad_x, Py_ssize_t OH,
                             Py_ssize_t OW) noexcept nogil:
    """pot[(oy * OW + ox) * F + f] += sum of the weights of the fired inputs in the window
    of (oy, ox).

    Loops over weight rows (c, u, v) outermost so that each row is read from memory once
    per sample and then added, from L1, to every output position whose input fired: the
    weights (megabytes) do not fit in L2, the potentials (kilobytes) do.
    """
    cdef Py_ssize_t C = wt.shape[0], kh = wt.shape[1], kw = wt.shape[2], F = wt.shape[3]
    cdef Py_ssize_t c, u, v, oy, ox, y, x
    cdef const weight_t* src
    for c in range(C):
        for u in range(kh):
            for v in range(kw):
                src = &wt[c, u, v, 0]
                for oy in range(OH):
                    y = oy + u - pad_y
                    if y < 0 or y >= H:
                        continue
                    for ox in range(OW):
                        x = ox + v - pad_x
                        if x < 0 or x >= W or not fired[(c * H + y) * W + x]:
                            continue
                        if weight_t is float:
                            wb_add_f(pot + (oy * OW + ox) * F, src, F)
                        else:
                            wb_add_d(pot + (oy * OW + ox) * F, src, F)


cdef inline Py_ssize_t _argmax(const weight_t* pot, const unsigned char[::1] active,
                               Py_ssize_t P, Py_ssize_t F) noexcept nogil:
    """Flat index f * P + p of the largest potential of an active feature (first maximum
    in that order), or -1 when no active feature has a positive potential."""
    cdef Py_ssize_t f, p, best = -1
    cdef weight_t top = 0
    for f in range(F):
        if not active[f]:
            continue
        for p in range(P):
            # Strictly greater: the first maximum wins, and a decision needs a positive
            # potential (a thresholdless neuron fires at the end only if something reached it).
            if pot[p * F + f] > top:
                top = pot[p * F + f]
                best = f * P + p
    return best


cdef inline Py_ssize_t _decide_one(const weight_t[:, :, :, ::1] wt, const int[:, :, :, ::1] tmap, Py_ssize_t b,
                                   int T, int pad_y, int pad_x, const unsigned char[::1] active,
                                   weight_t* pot, unsigned char* fired, int[:, ::1] out) noexcept nogil:
    """Decide sample ``b`` into ``out[b]`` = (feature, y, x), feature -1 if undecided; returns
    the winner's flat index f * P + p or -1, and leaves the sample's fired map in ``fired``."""
    cdef Py_ssize_t H = tmap.shape[2], W = tmap.shape[3], kh = wt.shape[1], kw = wt.shape[2], F = wt.shape[3]
    cdef Py_ssize_t OH = H + 2 * pad_y - kh + 1, OW = W + 2 * pad_x - kw + 1, P = OH * OW
    cdef Py_ssize_t j, best
    for j in range(P * F):
        pot[j] = 0
    _fired_map(tmap, b, T, fired)
    _accumulate(wt, pot, fired, H, W, pad_y, pad_x, OH, OW)
    best = _argmax(pot, active, P, F)
    if best < 0:
        out[b, 0] = -1
        out[b, 1] = 0
        out[b, 2] = 0
    else:
        out[b, 0] = <int>(best // P)
        out[b, 1] = <int>((best % P) // OW)
        out[b, 2] = <int>((best % P) % OW)
    return best


def decide(const weight_t[:, :, :, ::1] wt, const int[:, :, :, ::1] tmap, int T,
           int pad_y, int pad_x, const unsigned char[::1] active,
           int[:, ::1] out, int num_threads):
    """Winner ``(feature, y, x)`` of each sample into ``out`` (B, 3); feature -1: undecided.

    ``wt`` is (C, kh, kw, F); samples are independent, so they run in parallel.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], H = tmap.shape[2], W = tmap.shape[3]
    cdef Py_ssize_t kh = wt.shape[1], kw = wt.shape[2], F = wt.shape[3]
    cdef Py_ssize_t P = (H + 2 * pad_y - kh + 1) * (W + 2 * pad_x - kw + 1)
    cdef Py_ssize_t b
    # Per-thread buffers, allocated inside the parallel block (NULL here: firstprivate).
    cdef weight_t* pot = NULL
    cdef unsigned char* fired = NULL
    cdef int failed_flag = 0
    cdef int* failed = &failed_flag
    with nogil, parallel(num_threads=num_threads):
        pot = <weight_t*>malloc(P * F * sizeof(weight_t))
        fired = <unsigned char*>malloc(C * H * W)
        for b in prange(B, schedule="dynamic", chunksize=16):
            if pot == NULL or fired == NULL:
                failed[0] = 1  # through a pointer: shared, not a thread-private copy
                continue
            _decide_one(wt, tmap, b, T, pad_y, pad_x, active, pot, fired, out)
        free(pot)
        free(fired)
    if failed_flag:
        raise MemoryError("decision.decide: could not allocate the per-thread work buffers")


def learn(weight_t[:, :, :, ::1] wt, const int[:, :, :, ::1] tmap, int T,
          int pad_y, int pad_x, const unsigned char[::1] active,
          const long long[::1] rewarded_class, const long long[::1] labels,
          weight_t reward_plus, weight_t reward_minus, weight_t punish_plus, weight_t punish_minus,
          weight_t lower, weight_t upper, bint stabilize,
          int[:, ::1] out):
    """Decide and learn online, sample after sample, updating ``wt`` (C, kh, kw, F) in place.

    Each sample's winner (as :func:`decide`) is rewarded when ``rewarded_class[feature]
    == labels[b]`` and punished otherwise; R-STDP then changes the winner's kernel at its
    position: ``a = plus`` for inputs that fired (at or before the decision at the last
    step), ``minus`` for silent and padded ones; ``dw = a`` or, stabilised,
    ``a (w - lower)(upper - w)``; then ``w`` is clipped to the bounds.  One thread: the
    samples are sequential, and one takes less time than a parallel region costs on a busy
    machine.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], H = tmap.shape[2], W = tmap.shape[3]
    cdef Py_ssize_t kh = wt.shape[1], kw = wt.shape[2], F = wt.shape[3]
    cdef Py_ssize_t P = (H + 2 * pad_y - kh + 1) * (W + 2 * pad_x - kw + 1)
    cdef Py_ssize_t b, f, oy, ox, c, u, v, y, x
    cdef weight_t* pot = <weight_t*>malloc(P * F * sizeof(weight_t))
    cdef unsigned char* fired = <unsigned char*>malloc(C * H * W)
    cdef weight_t a_fired, a_silent, a, w
    if pot == NULL or fired == NULL:
        free(pot)
        free(fired)
        raise MemoryError()
    with nogil:
        for b in range(B):
            if _decide_one(wt, tmap, b, T, pad_y, pad_x, active, pot, fired, out) < 0:
                continue
            f, oy, ox = out[b, 0], out[b, 1], out[b, 2]
            if rewarded_class[f] == labels[b]:
                a_fired = reward_plus
                a_silent = reward_minus
            else:
                a_fired = punish_plus
                a_silent = punish_minus
            for c in range(C):
                for u in range(kh):
                    y = oy + u - pad_y
                    for v in range(kw):
                        x = ox + v - pad_x
                        if 0 <= y < H and 0 <= x < W and fired[(c * H + y) * W + x]:
                            a = a_fired
                        else:
                            a = a_silent
                        w = wt[c, u, v, f]
                        if stabilize:
                            w = w + a * (w - lower) * (upper - w)
                        else:
                            w = w + a
                        if w < lower:
                            w = lower
                        elif w > upper:
                            w = upper
                        wt[c, u, v, f] = w
    free(pot)
    free(fired)
