# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._wta` (k-winners-take-all selection).

Both kernels select on a first-spike representation: a time map (``T`` = silent) and the
potential at the first spike.  ``conv_wta_pair`` also validates that pair in its first
pass (reported through ``stats``; the Python module raises).  Order of merit: earlier time, then larger potential, then
the lower flat index (feature, y, x), which is the order of a first-occurrence arg-max.
Otherwise inputs are trusted.  One OpenMP thread per sample.
"""

from cython.parallel cimport prange
from libc.stdlib cimport malloc, free

# The loops over every feature row and over the candidate lists are written in C: with
# ``__restrict`` pointers and select-style reductions GCC vectorises the row scans (SSE2
# at -O3) and keeps the list rounds branch-free; the equivalent Cython loops were not
# vectorised (Cython lowers ``a if c else b`` to if/else blocks).
cdef extern from *:
    """
    #include <stddef.h>
    /* Row minimum of t, folded into acc = {min t, max t, non-finite flag, spike count}
       (spike: t < T).  s - s is NaN exactly when s is NaN or +-inf. */
    #define WB_WTA_SCAN(NAME, FT)                                                       \
    static int NAME(const int* __restrict tp, const FT* __restrict sp, ptrdiff_t P,     \
                    int T, int* __restrict acc) {                                       \
        int tmin = acc[0], tmax = acc[1], bad = acc[2], cnt = 0, rmin = 0x7fffffff;      \
        for (ptrdiff_t p = 0; p < P; p++) {                                             \
            int t = tp[p]; FT d = sp[p] - sp[p];                                        \
            rmin = t < rmin ? t : rmin;                                                 \
            tmax = t > tmax ? t : tmax;                                                 \
            bad |= (d != d);                                                            \
            cnt += t < T;                                                               \
        }                                                                               \
        acc[0] = rmin < tmin ? rmin : tmin; acc[1] = tmax; acc[2] = bad;                \
        acc[3] += cnt;                                                                  \
        return rmin;                                                                    \
    }
    WB_WTA_SCAN(wb_wta_scan_f, float)
    WB_WTA_SCAN(wb_wta_scan_d, double)
    /* Append every spike (t < T) of one feature map (tp, sp: H x W) to the candidate
       lists lc, ly, lx, lt, ls (n entries so far); returns the new length.  Each row is
       first tested with a vectorised OR, so silent rows cost no unpredictable branch;
       positions are kept as (y, x) so that no division is needed later. */
    #define WB_WTA_GATHER(NAME, FT)                                                     \
    static ptrdiff_t NAME(const int* __restrict tp, const FT* __restrict sp, int H,     \
                          int W, int T, int c, int* __restrict lc, int* __restrict ly,  \
                          int* __restrict lx, int* __restrict lt, FT* __restrict ls,    \
                          ptrdiff_t n) {                                                \
        for (int y = 0; y < H; y++) {                                                   \
            const int* __restrict row = tp + (ptrdiff_t)y * W;                          \
            int any = 0;                                                                \
            for (int x = 0; x < W; x++) any |= row[x] < T;                              \
            if (!any) continue;                                                         \
            for (int x = 0; x < W; x++)                                                 \
                if (row[x] < T) {                                                       \
                    lc[n] = c; ly[n] = y; lx[n] = x; lt[n] = row[x];                    \
                    ls[n] = sp[(ptrdiff_t)y * W + x]; n++;                              \
                }                                                                       \
        }                                                                               \
        return n;                                                                       \
    }
    WB_WTA_GATHER(wb_wta_gather_f, float)
    WB_WTA_GATHER(wb_wta_gather_d, double)
    /* One selection round over the candidate lists (n entries, flat (c, y, x) order):
       drop feature wc and the Chebyshev window (ry, rx) around (py, px) -- wc = -1 and
       ry = rx = -1 drop nothing -- compacting in place, and return the new length with
       *best set to the best kept entry (earliest, then larger potential; strict
       comparisons keep the lowest flat index), -1 if none.  Branch-free selects: which
       entries survive is unpredictable. */
    #define WB_WTA_ROUND(NAME, FT)                                                      \
    static ptrdiff_t NAME(int* __restrict lc, int* __restrict ly, int* __restrict lx,   \
                          int* __restrict lt, FT* __restrict ls, ptrdiff_t n, int wc,   \
                          int py, int px, int ry, int rx, ptrdiff_t* best) {            \
        ptrdiff_t m = 0, bi = -1;                                                       \
        int bt = 0x7fffffff; FT bv = 0;                                                 \
        for (ptrdiff_t i = 0; i < n; i++) {                                             \
            int cc = lc[i], y = ly[i], x = lx[i], t = lt[i]; FT v = ls[i];              \
            int dy = y - py, dx = x - px;                                               \
            int keep = (cc != wc) & ((dy < -ry) | (dy > ry) | (dx < -rx) | (dx > rx));  \
            int better = keep & ((t < bt) | ((t == bt) & (v > bv)));                    \
            lc[m] = cc; ly[m] = y; lx[m] = x; lt[m] = t; ls[m] = v;                     \
            bi = better ? m : bi; bt = better ? t : bt; bv = better ? v : bv;           \
            m += keep;                                                                  \
        }                                                                               \
        *best = bi;                                                                     \
        return m;                                                                       \
    }
    WB_WTA_ROUND(wb_wta_round_f, float)
    WB_WTA_ROUND(wb_wta_round_d, double)
    """
    int wb_wta_scan_f(const int* tp, const float* sp, Py_ssize_t P, int T, int* acc) noexcept nogil
    int wb_wta_scan_d(const int* tp, const double* sp, Py_ssize_t P, int T, int* acc) noexcept nogil
    Py_ssize_t wb_wta_gather_f(const int* tp, const float* sp, int H, int W, int T, int c,
                               int* lc, int* ly, int* lx, int* lt, float* ls,
                               Py_ssize_t n) noexcept nogil
    Py_ssize_t wb_wta_gather_d(const int* tp, const double* sp, int H, int W, int T, int c,
                               int* lc, int* ly, int* lx, int* lt, double* ls,
                               Py_ssize_t n) noexcept nogil
    Py_ssize_t wb_wta_round_f(int* lc, int* ly, int* lx, int* lt, float* ls, Py_ssize_t n,
                              int wc, int py, int px, int ry, int rx,
                              Py_ssize_t* best) noexcept nogil
    Py_ssize_t wb_wta_round_d(int* lc, int* ly, int* lx, int* lt, double* ls, Py_ssize_t n,
                              int wc, int py, int px, int ry, int rx,
                              Py_ssize_t* best) noexcept nogil

ctypedef fused floating:
    float
    double


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


def conv_wta_pair(const int[:, :, ::1] tmap, const floating[:, :, ::1] spike,
                  int T, int H, int W, int ry, int rx, int count,
                  int[:, :, ::1] out, int[::1] n_out, int[:, ::1] stats,
                  unsigned char[:, ::1] live, int num_threads):
    """Convolutional k-WTA over a candidate list, with the input checks fused in.

    The selection of ``workbench.snn.conv_wta``: out (B, count, 5) rows (b, c, t, y, x),
    n_out (B,) rows per sample.  stats (B, 4) output per sample: min time, max time, 1 if
    some spike potential is NaN or infinite, number of spikes (time < T); every entry is
    read once even when ``count`` is 0, so the caller can validate from stats alone.  live (B, C) scratch.  n_out[b] = -1 reports a failed
    allocation (the caller raises MemoryError).

    Pass 1 scans every feature row (vectorised: validation, the row's earliest time and
    its spike count).  The spiking neurons of the live rows are then listed, in flat
    (feature, y, x) order, in per-sample buffers sized by that count (small, so no big
    zero-filled scratch pages per call).  Each round takes the best listed neuron
    (earliest, then larger potential, then lowest flat index) and compacts the list,
    dropping the winner's feature and its Chebyshev window, while finding the next
    round's best.  After inhibition the data are sparse (a few hundred spikes per
    sample), so the rounds cost little next to the scan.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], P = tmap.shape[2]
    cdef Py_ssize_t b, c, k, n, bi
    cdef int wc, py, px, rmin
    cdef int* acc
    cdef int* lc
    cdef int* ly
    cdef int* lx
    cdef int* lt
    cdef floating* ls
    cdef const int* tp
    cdef const floating* sp
    if B == 0 or C == 0 or P == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="dynamic"):
        acc = &stats[b, 0]  # per-sample row: private to the thread that owns b
        acc[0] = T
        acc[1] = 0
        acc[2] = 0
        acc[3] = 0
        n_out[b] = 0
        for c in range(C):
            if floating is float:
                rmin = wb_wta_scan_f(&tmap[b, c, 0], &spike[b, c, 0], P, T, acc)
            else:
                rmin = wb_wta_scan_d(&tmap[b, c, 0], &spike[b, c, 0], P, T, acc)
            live[b, c] = rmin < T
        if count == 0 or acc[3] <= 0:
            continue
        lc = <int*>malloc(acc[3] * (4 * sizeof(int) + sizeof(floating)))
        if lc == NULL:
            n_out[b] = -1
            continue
        # Assigned here so Cython makes it private to the thread: it is otherwise only
        # written through &bi, and a shared bi raced between samples (seen at 2 threads).
        bi = -1
        ly = lc + acc[3]
        lx = ly + acc[3]
        lt = lx + acc[3]
        ls = <floating*>(lt + acc[3])
        n = 0
        for c in range(C):
            if live[b, c]:
                if floating is float:
                    n = wb_wta_gather_f(&tmap[b, c, 0], &spike[b, c, 0], H, W, T, <int>c,
                                        lc, ly, lx, lt, ls, n)
                else:
                    n = wb_wta_gather_d(&tmap[b, c, 0], &spike[b, c, 0], H, W, T, <int>c,
                                        lc, ly, lx, lt, ls, n)
        # a round that drops nothing just finds the first best
        if floating is float:
            n = wb_wta_round_f(lc, ly, lx, lt, ls, n, -1, 0, 0, -1, -1, &bi)
        else:
            n = wb_wta_round_d(lc, ly, lx, lt, ls, n, -1, 0, 0, -1, -1, &bi)
        k = 0
        while k < count and bi >= 0:
            wc = lc[bi]
            py = ly[bi]
            px = lx[bi]
            out[b, k, 0] = <int>b
            out[b, k, 1] = wc
            out[b, k, 2] = lt[bi]
            out[b, k, 3] = py
            out[b, k, 4] = px
            k = k + 1
            if k < count:
                if floating is float:
                    n = wb_wta_round_f(lc, ly, lx, lt, ls, n, wc, py, px, ry, rx, &bi)
                else:
                    n = wb_wta_round_d(lc, ly, lx, lt, ls, n, wc, py, px, ry, rx, &bi)
        n_out[b] = <int>k
        free(lc)
