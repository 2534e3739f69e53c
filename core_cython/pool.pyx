# cython: language_level=3
"""Pooling kernels (inner loops only; ``workbench.snn._pool`` validates and pads).

All kernels pool an already padded input with no padding of their own, so that one
padding rule (in Python) serves every kernel.
"""

from cython.parallel cimport prange

# Inner loops of the cumulative-wave fast path, in C: with ``__restrict`` pointers GCC
# vectorises them (SSE2 at -O3).
cdef extern from *:
    """
    #include <stddef.h>
    /* cnt[p] += plane[p]; returns nonzero when some value is > 1 or smaller than the
       previous step's (prev), i.e. when the wave is not a 0/1 cumulative wave. */
    static int wb_pool_count(const unsigned char* __restrict plane,
                             const unsigned char* __restrict prev,
                             int* __restrict cnt, ptrdiff_t N) {
        int bad = 0;
        for (ptrdiff_t p = 0; p < N; p++) {
            unsigned char v = plane[p];
            bad |= (v > 1) | (v < prev[p]);
            cnt[p] += v;
        }
        return bad;
    }
    /* dst[q] = (otm[q] <= t): the wave of a time map at step t. */
    static void wb_pool_emit(const int* __restrict otm, unsigned char* __restrict dst,
                             int t, ptrdiff_t N) {
        for (ptrdiff_t q = 0; q < N; q++) dst[q] = otm[q] <= t;
    }
    """
    int wb_pool_count(const unsigned char* plane, const unsigned char* prev, int* cnt,
                      Py_ssize_t N) noexcept nogil
    void wb_pool_emit(const int* otm, unsigned char* dst, int t, Py_ssize_t N) noexcept nogil

ctypedef fused value_t:
    unsigned char
    float
    double

ctypedef fused rate_t:
    float
    double


def max_pool(const value_t[:, :, :, :, ::1] x, value_t[:, :, :, :, ::1] out,
             value_t[:, :, ::1] scratch, int kh, int kw, int sh, int sw, int num_threads):
    """out[b, t, c, i, j] = max of x[b, t, c] over the (kh, kw) window at (i*sh, j*sw).

    Separable: a horizontal pass into ``scratch[b]`` (H, OW), then a vertical pass whose
    inner loop runs over contiguous output columns (vectorisable).
    """
    cdef Py_ssize_t B = x.shape[0], T = x.shape[1], C = x.shape[2]
    cdef Py_ssize_t H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t b, t, c, i, j, u, v, r, rows
    cdef const value_t* plane
    cdef const value_t* row
    cdef value_t* dst
    cdef value_t* tmp
    cdef value_t* trow
    cdef value_t best, val
    if B == 0 or T == 0 or C == 0:
        return
    rows = (OH - 1) * sh + kh  # input rows that any window touches
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        tmp = &scratch[b, 0, 0]
        for t in range(T):
            for c in range(C):
                # Raw plane pointers: 5-D memoryview indexing in inner loops is slower.
                plane = &x[b, t, c, 0, 0]
                dst = &out[b, t, c, 0, 0]
                for r in range(rows):
                    row = plane + r * W
                    trow = tmp + r * OW
                    for j in range(OW):
                        best = row[j * sw]
                        for v in range(1, kw):
                            val = row[j * sw + v]
                            # Branch-free select (cmov): spike data is unpredictable.
                            best = val if val > best else best
                        trow[j] = best
                for i in range(OH):
                    trow = tmp + i * sh * OW
                    for j in range(OW):
                        dst[i * OW + j] = trow[j]
                    for u in range(1, kh):
                        trow = tmp + (i * sh + u) * OW
                        for j in range(OW):
                            val = trow[j]
                            dst[i * OW + j] = val if val > dst[i * OW + j] else dst[i * OW + j]


def min_pool_timemap(const int[:, :, :, ::1] x, int[:, :, :, ::1] out,
                     int kh, int kw, int sh, int sw, int num_threads):
    """out[b, c, i, j] = min of x[b, c] over the (kh, kw) window at (i*sh, j*sw)."""
    cdef Py_ssize_t B = x.shape[0], C = x.shape[1], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3]
    cdef Py_ssize_t b, c, i, j, u, v
    cdef const int* plane
    cdef const int* row
    cdef int* dst
    cdef int best
    if B == 0 or C == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for c in range(C):
            plane = &x[b, c, 0, 0]
            dst = &out[b, c, 0, 0]
            for i in range(OH):
                for j in range(OW):
                    best = plane[i * sh * W + j * sw]
                    for u in range(kh):
                        row = plane + (i * sh + u) * W + j * sw
                        for v in range(kw):
                            best = row[v] if row[v] < best else best
                    dst[i * OW + j] = best


def rate_pool(const value_t[:, :, :, :, ::1] x, const rate_t[:, :, :, ::1] rates,
              value_t[:, :, :, :, ::1] out, int kh, int kw, int sh, int sw, int num_threads):
    """Copy, for every window, the whole time course of the input with the largest rate.

    Ties go to the first maximum in row-major window order (strict ``>`` while scanning).
    """
    cdef Py_ssize_t B = x.shape[0], T = x.shape[1], C = x.shape[2]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t b, t, c, i, j, u, v, bu, bv
    cdef rate_t best
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    bu = 0
                    bv = 0
                    best = rates[b, c, i * sh, j * sw]
                    for u in range(kh):
                        for v in range(kw):
                            if rates[b, c, i * sh + u, j * sw + v] > best:
                                best = rates[b, c, i * sh + u, j * sw + v]
                                bu = u
                                bv = v
                    for t in range(T):
                        out[b, t, c, i, j] = x[b, t, c, i * sh + bu, j * sw + bv]


def max_pool_cumulative(const unsigned char[:, :, :, :, ::1] x, unsigned char[:, :, :, :, ::1] out,
                        int[:, ::1] cnt, int[:, ::1] tm, int[:, ::1] otm,
                        int top, int left, int Wp, int kh, int kw, int sh, int sw,
                        unsigned char[::1] bad, int num_threads):
    """Max-pool a 0/1 cumulative wave through its time map.

    x : (B, T, C, H, W) unpadded.  out : (B, T, C, OH, OW).  Scratch per sample: cnt
    (B, H*W), tm (B, Hp*Wp) with Hp, Wp the padded size (Wp passed), otm (B, OH*OW).  bad (B,)
    output: 1 where the sample is not a 0/1 cumulative wave -- its output is then
    meaningless and the caller must use :func:`max_pool` instead.

    On such a wave the first-spike step is ``T - (number of ones)``, the pooled wave is
    the wave of the window-minimum time (zero padding = never fires = ``T``), so the
    cost is one pass over the input plus one write of the output, with no per-step
    window maxima.
    """
    cdef Py_ssize_t B = x.shape[0], T = x.shape[1], C = x.shape[2]
    cdef Py_ssize_t H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t b, t, c, i, j, u, v, p, y
    cdef int* cp
    cdef int* tp
    cdef int* op
    cdef const int* row
    cdef int best
    cdef int Ti = <int>T
    if B == 0 or T == 0 or C == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        cp = &cnt[b, 0]
        tp = &tm[b, 0]
        op = &otm[b, 0]
        bad[b] = 0
        for c in range(C):
            if bad[b]:
                break
            for p in range(H * W):
                cp[p] = 0
            for t in range(T):
                if wb_pool_count(&x[b, t, c, 0, 0], &x[b, t - 1 if t > 0 else 0, c, 0, 0],
                                 cp, H * W):
                    bad[b] = 1
            # padded time map: padding never fires (time T)
            for p in range(tm.shape[1]):
                tp[p] = Ti
            for y in range(H):
                for p in range(W):
                    tp[(y + top) * Wp + left + p] = Ti - cp[y * W + p]
            for i in range(OH):
                for j in range(OW):
                    best = Ti
                    for u in range(kh):
                        row = tp + (i * sh + u) * Wp + j * sw
                        for v in range(kw):
                            best = row[v] if row[v] < best else best
                    op[i * OW + j] = best
            for t in range(T):
                wb_pool_emit(op, &out[b, t, c, 0, 0], <int>t, OH * OW)
