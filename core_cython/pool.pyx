# cython: language_level=3
"""Pooling kernels (inner loops only; ``workbench.snn._pool`` validates and pads).

All kernels pool an already padded input with no padding of their own, so that one
padding rule (in Python) serves every kernel.
"""

from cython.parallel cimport prange

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
