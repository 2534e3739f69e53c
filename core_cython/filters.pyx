"""Inner loops of the image front ends: 'valid' 2-D correlations and lateral inhibition.

Images arrive as planes ``(P, H, W)`` (batch and channel merged); kernels trust their
inputs (``workbench.snn._filters`` validates, pads and reshapes).  Planes are processed in
parallel.  Accumulation is in the input precision, in a fixed order, so results are
deterministic and an all-zero region gives exact zeros.
"""

from cython.parallel cimport prange
from libc.stdlib cimport free, malloc

ctypedef fused floating:
    float
    double


def correlate_valid(const floating[:, :, ::1] x, const floating[:, :, ::1] k,
                    floating[:, :, :, ::1] out, int num_threads):
    """out[p, f] = 'valid' correlation of x[p] (H, W) with k[f] (kh, kw); out (P, K, Ho, Wo)."""
    cdef Py_ssize_t P = x.shape[0], K = k.shape[0], kh = k.shape[1], kw = k.shape[2]
    cdef Py_ssize_t Ho = out.shape[2], Wo = out.shape[3]
    cdef Py_ssize_t p, f, i, j, u, v
    cdef floating w
    cdef floating* orow
    cdef const floating* xrow
    with nogil:
        for p in prange(P, schedule="dynamic", num_threads=num_threads):
            for f in range(K):
                for i in range(Ho):
                    orow = &out[p, f, i, 0]
                    for j in range(Wo):
                        orow[j] = 0
                    for u in range(kh):
                        for v in range(kw):
                            w = k[f, u, v]
                            if w == 0:
                                continue
                            xrow = &x[p, i + u, v]
                            # contiguous row update (vectorisable)
                            for j in range(Wo):
                                orow[j] = orow[j] + w * xrow[j]


def separable_valid(const floating[:, :, ::1] x, const floating[:, ::1] g,
                    floating[:, :, :, ::1] out, int num_threads):
    """out[p, s] = 'valid' correlation of x[p] with outer(g[s], g[s]); out (P, S, Ho, Wo)."""
    cdef Py_ssize_t P = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t S = g.shape[0], n = g.shape[1]
    cdef Py_ssize_t Ho = out.shape[2], Wo = out.shape[3]
    cdef Py_ssize_t p, s, i, j, u
    cdef floating w
    cdef floating* tmp
    cdef floating* orow
    cdef floating* trow
    cdef const floating* xrow
    with nogil:
        for p in prange(P, schedule="dynamic", num_threads=num_threads):
            # horizontal pass into tmp (H, Wo), then vertical pass into out
            tmp = <floating*> malloc(H * Wo * sizeof(floating))
            for s in range(S):
                for i in range(H):
                    trow = tmp + i * Wo
                    for j in range(Wo):
                        trow[j] = 0
                    for u in range(n):
                        w = g[s, u]
                        xrow = &x[p, i, u]
                        for j in range(Wo):
                            trow[j] = trow[j] + w * xrow[j]
                for i in range(Ho):
                    orow = &out[p, s, i, 0]
                    for j in range(Wo):
                        orow[j] = 0
                    for u in range(n):
                        w = g[s, u]
                        trow = tmp + (i + u) * Wo
                        for j in range(Wo):
                            orow[j] = orow[j] + w * trow[j]
            free(tmp)


def lateral(const floating[:, :, ::1] xp, const double[:, ::1] kern, floating[:, :, ::1] out,
            bint suppress, int num_threads):
    """Lateral intensity inhibition on zero-padded planes ``xp`` (P, H+2L, W+2L).

    spyketorch (suppress=False): out = x * (1 + sum_{x_q < x} k);
    suppress=True:               out = x * max(0, 1 - sum_{x_q > x} k).
    """
    cdef Py_ssize_t P = out.shape[0], H = out.shape[1], W = out.shape[2]
    cdef Py_ssize_t n = kern.shape[0], L = n // 2, Wp = xp.shape[2]
    cdef Py_ssize_t p, i, j, u, v
    cdef double kk, a
    cdef double* acc
    cdef const floating* crow
    cdef const floating* qrow
    with nogil:
        for p in prange(P, schedule="dynamic", num_threads=num_threads):
            acc = <double*> malloc(W * sizeof(double))
            for i in range(H):
                crow = &xp[p, i + L, L]
                for j in range(W):
                    acc[j] = 0
                # offsets outer, pixels inner: branch-free, vectorisable row updates
                for u in range(n):
                    for v in range(n):
                        kk = kern[u, v]
                        if kk == 0:
                            continue
                        qrow = &xp[p, i + u, v]
                        if suppress:
                            for j in range(W):
                                acc[j] = acc[j] + (kk if qrow[j] > crow[j] else 0.0)
                        else:
                            for j in range(W):
                                acc[j] = acc[j] + (kk if qrow[j] < crow[j] else 0.0)
                for j in range(W):
                    a = acc[j]
                    if suppress:
                        a = 1 - a
                        if a < 0:
                            a = 0
                    else:
                        a = 1 + a
                    out[p, i, j] = <floating>(crow[j] * a)
            free(acc)
