# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._inhibit` (pointwise lateral inhibition).

Arrays are flattened so that features are axis 1 and positions (y, x) are one axis
``P = H * W``.  Inputs are trusted; the Python module validates.
"""

from cython.parallel cimport prange

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
    """out[b, t, c, p] = pot[b, t, c, p] if c == win[b, p] else 0.  pot, out: (B, T, C, P)."""
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], C = pot.shape[2], P = pot.shape[3]
    cdef Py_ssize_t b, t, c, p
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for t in range(T):
            for c in range(C):
                for p in range(P):
                    if win[b, p] == c:
                        out[b, t, c, p] = pot[b, t, c, p]
                    else:
                        out[b, t, c, p] = 0


def apply_timemap(const int[:, :, ::1] tmap, const floating[:, :, ::1] spike,
                  const int[:, ::1] win, int T, int[:, :, ::1] out_t,
                  floating[:, :, ::1] out_s, int num_threads):
    """Losers become silent: time T, potential 0.  All arrays (B, C, P) except win (B, P)."""
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], P = tmap.shape[2]
    cdef Py_ssize_t b, c, p
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        for c in range(C):
            for p in range(P):
                if win[b, p] == c:
                    out_t[b, c, p] = tmap[b, c, p]
                    out_s[b, c, p] = spike[b, c, p]
                else:
                    out_t[b, c, p] = T
                    out_s[b, c, p] = 0
