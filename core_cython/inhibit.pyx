# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._inhibit` (pointwise lateral inhibition).

Arrays are flattened so that features are axis 1 and positions (y, x) are one axis
``P = H * W``.  Inputs are trusted; the Python module validates.
"""

from cython.parallel cimport prange

# The hot loop of ``inhibit_timemap`` is written in C: with ``__restrict`` pointers and
# unconditional selects GCC vectorises it (SSE2 at -O3), which it refused to do for the
# equivalent Cython loop ("control flow in loop": Cython lowers ``a if c else b`` to
# if/else blocks that the vectoriser's if-conversion did not undo).
cdef extern from *:
    """
    #include <stddef.h>
    /* Fold one feature row (t, s over P positions) into the running per-position best
       (btp, bvp, wp) and accumulate validation facts acc = {min t, max t, non-finite}.
       A row wins a position when its time is earlier, or equal with a larger potential
       (strict: the lower feature keeps exact ties).  s - s is NaN exactly when s is NaN
       or +-inf. */
    #define WB_INHIBIT_SCAN(NAME, FT)                                                   \
    static void NAME(const int* __restrict tp, const FT* __restrict sp, int c,         \
                     ptrdiff_t P, int* __restrict wp, int* __restrict btp,             \
                     FT* __restrict bvp, int* __restrict acc) {                        \
        int tmin = acc[0], tmax = acc[1], bad = acc[2];                                 \
        for (ptrdiff_t p = 0; p < P; p++) {                                             \
            int t = tp[p]; FT s = sp[p];                                                \
            tmin = t < tmin ? t : tmin;                                                 \
            tmax = t > tmax ? t : tmax;                                                 \
            FT d = s - s;                                                               \
            bad |= (d != d);                                                            \
            int bt = btp[p]; FT bv = bvp[p];                                            \
            int upd = (t < bt) | ((t == bt) & (s > bv));                                \
            btp[p] = upd ? t : bt;                                                      \
            bvp[p] = upd ? s : bv;                                                      \
            wp[p] = upd ? c : wp[p];                                                    \
        }                                                                               \
        acc[0] = tmin; acc[1] = tmax; acc[2] = bad;                                     \
    }
    WB_INHIBIT_SCAN(wb_inhibit_scan_f, float)
    WB_INHIBIT_SCAN(wb_inhibit_scan_d, double)
    """
    void wb_inhibit_scan_f(const int* tp, const float* sp, int c, Py_ssize_t P,
                           int* wp, int* btp, float* bvp, int* acc) noexcept nogil
    void wb_inhibit_scan_d(const int* tp, const double* sp, int c, Py_ssize_t P,
                           int* wp, int* btp, double* bvp, int* acc) noexcept nogil

ctypedef fused floating:
    float
    double


def winner_feature(const int[:, :, ::1] tmap, const floating[:, :, ::1] spike, int T,
                   int[:, ::1] win, int num_threads):
    """Per position, the feature that keeps firing: earliest first spike, then larger
    potential at that step, then lower feature index; -1 where no feature fired.

    tmap, spike : (B, C, P);  win : (B, P) output.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], P = tmap.shape[2]
    cdef Py_ssize_t b, c, p
    cdef int t, best_t
    cdef floating best_v
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for p in range(P):
            win[b, p] = -1
            best_t = T
            best_v = 0
            for c in range(C):
                t = tmap[b, c, p]
                # strict comparisons: the first (lowest) feature wins exact ties
                if t < best_t or (t == best_t and t < T and spike[b, c, p] > best_v):
                    best_t = t
                    best_v = spike[b, c, p]
                    win[b, p] = <int>c


def apply_dense(const floating[:, :, :, ::1] pot, const int[:, ::1] win,
                floating[:, :, :, ::1] out, int num_threads):
    """out[b, :, c, p] = pot[b, :, c, p] where c == win[b, p].  pot, out: (B, T, C, P).

    ``out`` must be zero-filled by the caller (``np.zeros``: fresh pages that are never
    written stay the shared zero page), so only the surviving time courses are copied
    instead of writing every element.
    """
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], C = pot.shape[2], P = pot.shape[3]
    cdef Py_ssize_t b, t, p
    cdef int w
    if B == 0 or T == 0 or C == 0 or P == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for t in range(T):
            for p in range(P):
                w = win[b, p]
                if w >= 0:
                    out[b, t, w, p] = pot[b, t, w, p]


def inhibit_timemap(const int[:, :, ::1] tmap, const floating[:, :, ::1] spike, int T,
                    int[:, :, ::1] out_t, floating[:, :, ::1] out_s,
                    int[:, ::1] win, int[:, ::1] best_t, floating[:, ::1] best_v,
                    int[:, ::1] stats, int num_threads):
    """Fused validation, winner search and output of ``inhibit_timemap``.

    tmap, spike, out_t, out_s : (B, C, P).  Scratch (B, P), any content: win, best_t,
    best_v.  stats (B, 3) output per sample: min time, max time, 1 if some spike potential
    is NaN or infinite (the caller raises; the outputs are then meaningless).

    One read pass over the inputs (features outer, positions inner: contiguous) and one
    write pass, instead of NumPy's min / max / finiteness scans plus two kernels.  Same
    winner as :func:`winner_feature`: the running best starts at time ``T`` with potential
    +inf, so silent entries can never take a position.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], P = tmap.shape[2]
    cdef Py_ssize_t b, c, p
    cdef int w
    cdef int* acc
    cdef floating inf = <floating>float("inf")
    cdef int* wp
    cdef int* btp
    cdef floating* bvp
    cdef int* ot
    cdef floating* os
    if B == 0 or C == 0 or P == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        wp = &win[b, 0]
        btp = &best_t[b, 0]
        bvp = &best_v[b, 0]
        acc = &stats[b, 0]  # per-sample row: private to the thread that owns b
        acc[0] = T
        acc[1] = 0
        acc[2] = 0
        for p in range(P):
            wp[p] = -1
            btp[p] = T
            bvp[p] = inf
        for c in range(C):
            if floating is float:
                wb_inhibit_scan_f(&tmap[b, c, 0], &spike[b, c, 0], <int>c, P, wp, btp, bvp, acc)
            else:
                wb_inhibit_scan_d(&tmap[b, c, 0], &spike[b, c, 0], <int>c, P, wp, btp, bvp, acc)
        # losers are silent: fill everything, then write the (few) winners back
        for c in range(C):
            ot = &out_t[b, c, 0]
            os = &out_s[b, c, 0]
            for p in range(P):
                ot[p] = T
                os[p] = 0
        for p in range(P):
            w = wp[p]
            if w >= 0:
                out_t[b, w, p] = btp[p]
                out_s[b, w, p] = bvp[p]
