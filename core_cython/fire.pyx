# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._fire` (firing and first-spike extraction).

Every kernel works on potentials flattened to ``(B, T, N)`` (C-contiguous) and writes into
arrays the caller allocated.  Inputs are trusted, except that the ``*_checked`` kernels
report NaN / infinite potentials per sample (the Python module raises).
The batch axis is split across OpenMP threads; each sample is independent.
"""

from cython.parallel cimport prange

# The rank-firing and first-spike loops with the finiteness check fused in are written in
# C: with ``__restrict`` pointers and branch-free selects GCC vectorises them (SSE2 at
# -O3), which saves the two separate NumPy passes (min and max) that validation used to
# make over the (large) potentials.  ``v - v`` is NaN exactly when v is NaN or +-inf.
cdef extern from *:
    """
    #include <stddef.h>
    /* Cumulative threshold firing of one sample, p (T, N) -> o (T, N); returns 1 if
       some potential is NaN or infinite. */
    #define WB_RANK_FIRE(NAME, FT)                                                      \
    static int NAME(const FT* __restrict p, unsigned char* __restrict o, ptrdiff_t T,   \
                    ptrdiff_t N, FT th) {                                               \
        int bad = 0;                                                                    \
        for (ptrdiff_t n = 0; n < N; n++) {                                             \
            FT v = p[n], d = v - v;                                                     \
            bad |= d != d;                                                              \
            o[n] = v > th;                                                              \
        }                                                                               \
        for (ptrdiff_t t = 1; t < T; t++) {                                             \
            const FT* __restrict pt = p + t * N;                                        \
            const unsigned char* __restrict prev = o + (t - 1) * N;                     \
            unsigned char* __restrict ot = o + t * N;                                   \
            for (ptrdiff_t n = 0; n < N; n++) {                                         \
                FT v = pt[n], d = v - v;                                                \
                bad |= d != d;                                                          \
                ot[n] = prev[n] | (v > th);                                             \
            }                                                                           \
        }                                                                               \
        return bad;                                                                     \
    }
    WB_RANK_FIRE(wb_rank_fire_f, float)
    WB_RANK_FIRE(wb_rank_fire_d, double)
    /* First step with p > th (T if none) and the potential there (0 if none) for one
       sample, p (T, N) -> tm, sp (N,); returns 1 if some potential is NaN or infinite. */
    #define WB_FIRST_SPIKE(NAME, FT)                                                    \
    static int NAME(const FT* __restrict p, int* __restrict tm, FT* __restrict sp,      \
                    ptrdiff_t T, ptrdiff_t N, FT th) {                                  \
        int bad = 0, Ti = (int)T;                                                       \
        for (ptrdiff_t n = 0; n < N; n++) { tm[n] = Ti; sp[n] = 0; }                    \
        for (ptrdiff_t t = 0; t < T; t++) {                                             \
            const FT* __restrict pt = p + t * N;                                        \
            for (ptrdiff_t n = 0; n < N; n++) {                                         \
                FT v = pt[n], d = v - v;                                                \
                int f = (tm[n] == Ti) & (v > th);                                       \
                bad |= d != d;                                                          \
                tm[n] = f ? (int)t : tm[n];                                             \
                sp[n] = f ? v : sp[n];                                                  \
            }                                                                           \
        }                                                                               \
        return bad;                                                                     \
    }
    WB_FIRST_SPIKE(wb_first_spike_f, float)
    WB_FIRST_SPIKE(wb_first_spike_d, double)
    """
    int wb_rank_fire_f(const float* p, unsigned char* o, Py_ssize_t T, Py_ssize_t N,
                       float th) noexcept nogil
    int wb_rank_fire_d(const double* p, unsigned char* o, Py_ssize_t T, Py_ssize_t N,
                       double th) noexcept nogil
    int wb_first_spike_f(const float* p, int* tm, float* sp, Py_ssize_t T, Py_ssize_t N,
                         float th) noexcept nogil
    int wb_first_spike_d(const double* p, int* tm, double* sp, Py_ssize_t T, Py_ssize_t N,
                         double th) noexcept nogil

ctypedef fused floating:
    float
    double


def rate_fire(const floating[:, :, ::1] pot, double threshold,
              floating[:, ::1] level, unsigned char[:, :, ::1] out, int num_threads):
    """Spyker's rate firing: a spike whenever the potential exceeds the potential at the
    neuron's previous spike (0 initially) by more than ``threshold``; at most one spike per
    step.  ``out[b, t, n]`` is the cumulative spike count; ``level`` (B, N) is scratch,
    zero-filled by the caller."""
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], N = pot.shape[2]
    cdef Py_ssize_t b, t, n
    cdef floating th = <floating>threshold
    cdef unsigned char count
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for t in range(T):
            for n in range(N):
                count = out[b, t - 1, n] if t > 0 else 0
                if level[b, n] + th < pot[b, t, n]:
                    level[b, n] = pot[b, t, n]
                    count = count + 1
                out[b, t, n] = count


def rank_fire_checked(const floating[:, :, ::1] pot, double threshold,
                      unsigned char[:, :, ::1] out, unsigned char[::1] bad, int num_threads):
    """:func:`rank_fire` that also reports, per sample, NaN or infinite potentials in
    ``bad`` (B,) (the caller raises; ``out`` is then meaningless).  One pass."""
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], N = pot.shape[2]
    cdef Py_ssize_t b
    # The comparison happens in the potentials' own precision, as Spyker does.
    cdef floating th = <floating>threshold
    if B == 0 or T == 0 or N == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        if floating is float:
            bad[b] = wb_rank_fire_f(&pot[b, 0, 0], &out[b, 0, 0], T, N, th)
        else:
            bad[b] = wb_rank_fire_d(&pot[b, 0, 0], &out[b, 0, 0], T, N, th)


def first_spike_checked(const floating[:, :, ::1] pot, double threshold,
                        int[:, ::1] tmap, floating[:, ::1] spike, unsigned char[::1] bad,
                        int num_threads):
    """:func:`first_spike` that fills ``tmap`` / ``spike`` itself (any content on entry)
    and reports, per sample, NaN or infinite potentials in ``bad`` (B,).  One pass."""
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], N = pot.shape[2]
    cdef Py_ssize_t b
    cdef floating th = <floating>threshold
    if B == 0 or T == 0 or N == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        if floating is float:
            bad[b] = wb_first_spike_f(&pot[b, 0, 0], &tmap[b, 0], &spike[b, 0], T, N, th)
        else:
            bad[b] = wb_first_spike_d(&pot[b, 0, 0], &tmap[b, 0], &spike[b, 0], T, N, th)
