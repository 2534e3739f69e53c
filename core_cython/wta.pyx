# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._wta` (k-winners-take-all selection).

Both kernels select on a first-spike representation: a time map (``T`` = silent) and the
potential at the first spike.  Order of merit: earlier time, then larger potential, then
the lower flat index (feature, y, x), which is the order of a first-occurrence arg-max.
Inputs are trusted; the Python module validates.  One OpenMP thread per sample.
"""

from cython.parallel cimport prange

ctypedef fused floating:
    float
    double


def conv_wta(const int[:, :, ::1] tmap, const floating[:, :, ::1] spike,
             int T, int H, int W, int ry, int rx, int count,
             int[:, :, ::1] out, int[::1] n_out,
             unsigned char[:, ::1] blocked, int[:, ::1] best,
             unsigned char[:, ::1] state, int num_threads):
    """Convolutional k-WTA.

    tmap, spike : (B, C, H*W).  out : (B, count, 5) rows (b, c, t, y, x); n_out : (B,).
    Scratch, zero-filled by the caller: blocked (B, H*W) spatial exclusion mask,
    best (B, C) flat position of each feature's best candidate (-1 none),
    state (B, C): 0 = needs a scan, 1 = best is current, 2 = feature taken.

    Each feature's best candidate is cached; after a win only the features whose cached
    best fell inside the excluded window are rescanned, so the cost is about one pass over
    the map plus ``count`` small windows instead of ``count`` full passes.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], P = tmap.shape[2]
    cdef Py_ssize_t b, c, p, k, y, x, ys, ye, xs, xe
    cdef int t, bt, wc, wt, wp, found, py, px
    cdef floating v, bv
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="dynamic"):
        found = 0
        for k in range(count):
            # refresh stale per-feature bests
            for c in range(C):
                if state[b, c] == 0:
                    best[b, c] = -1
                    bt = T
                    bv = 0
                    for p in range(P):
                        if blocked[b, p]:
                            continue
                        t = tmap[b, c, p]
                        if t < bt or (t == bt and t < T and spike[b, c, p] > bv):
                            bt = t
                            bv = spike[b, c, p]
                            best[b, c] = <int>p
                    state[b, c] = 1
            # best over features; strict comparisons keep the lowest feature on ties
            wc = -1
            wt = T
            bv = 0
            for c in range(C):
                if state[b, c] == 1 and best[b, c] >= 0:
                    t = tmap[b, c, best[b, c]]
                    v = spike[b, c, best[b, c]]
                    if wc < 0 or t < wt or (t == wt and v > bv):
                        wc = <int>c
                        wt = t
                        bv = v
            if wc < 0:
                break
            wp = best[b, wc]
            py = wp // W
            px = wp % W
            out[b, found, 0] = <int>b
            out[b, found, 1] = wc
            out[b, found, 2] = wt
            out[b, found, 3] = py
            out[b, found, 4] = px
            found = found + 1
            state[b, wc] = 2
            # exclude every neuron (all features) within the Chebyshev window
            ys = py - ry if py - ry > 0 else 0
            ye = py + ry + 1 if py + ry + 1 < H else H
            xs = px - rx if px - rx > 0 else 0
            xe = px + rx + 1 if px + rx + 1 < W else W
            for y in range(ys, ye):
                for x in range(xs, xe):
                    blocked[b, y * W + x] = 1
            for c in range(C):
                if state[b, c] == 1 and best[b, c] >= 0 and blocked[b, best[b, c]]:
                    state[b, c] = 0
        n_out[b] = found


def fc_wta(const int[:, ::1] tmap, const floating[:, ::1] spike, int T, int radius,
           int count, int[:, :, ::1] out, int[::1] n_out,
           unsigned char[:, ::1] blocked, int num_threads):
    """Fully-connected k-WTA: after each win, neurons within ``radius`` of the winner's
    index (the winner included) are excluded.

    tmap, spike : (B, N).  out : (B, count, 5) rows (b, n, t, 0, 0).  blocked (B, N) scratch,
    zero-filled by the caller.
    """
    cdef Py_ssize_t B = tmap.shape[0], N = tmap.shape[1]
    cdef Py_ssize_t b, n, k, s, e
    cdef int t, bt, bn, found
    cdef floating bv
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="dynamic"):
        found = 0
        for k in range(count):
            bn = -1
            bt = T
            bv = 0
            for n in range(N):
                if blocked[b, n]:
                    continue
                t = tmap[b, n]
                if t < bt or (t == bt and t < T and spike[b, n] > bv):
                    bt = t
                    bv = spike[b, n]
                    bn = <int>n
            if bn < 0:
                break
            out[b, found, 0] = <int>b
            out[b, found, 1] = bn
            out[b, found, 2] = bt
            out[b, found, 3] = 0
            out[b, found, 4] = 0
            found = found + 1
            s = bn - radius if bn - radius > 0 else 0
            e = bn + radius + 1 if bn + radius + 1 < N else N
            for n in range(s, e):
                blocked[b, n] = 1
        n_out[b] = found
