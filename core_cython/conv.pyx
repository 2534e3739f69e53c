# cython: language_level=3
"""Inner loops of the spiking convolution (dense waves and event-driven time maps).

Kernels trust their inputs; :mod:`workbench.snn._conv` validates and allocates.

Algorithm (shared by the dense and the event-driven kernel, so that both produce
bit-identical potentials).  A cumulative wave (``wave[t] = 1`` iff fired at or before
``t``) is lossless as a first-spike time map, and ``potential[t] = sum_{t' <= t}
correlation(increment[t'])`` where every input neuron appears in exactly one
increment.  So each input spike is touched once, not ``T`` times:

1. Each sample's spikes are bucket-sorted once by input row and first-spike step.
2. For one output row ``oy``, steps are replayed in order, and within a step the spikes
   of the covered input rows in ascending ``(c, y, x)`` order: each spike adds, for
   every output column ``ox`` whose receptive field holds it, one weight vector
   (features innermost, weights pre-transposed to ``(C, kh, kw, Fp)``) into the row's
   running potentials ``pot[ox, :]`` (``W' * Fp`` values: stays in L1 cache).
   Cost: (number of spikes) x kh x kw vector additions, independent of ``T``.
3. After each step the dense kernel copies ``pot`` into the output at ``t``; the
   event-driven kernel only checks the touched columns for a first crossing of the
   threshold and stops once every neuron of the row has fired.

The feature axis is padded to ``Fp``, a multiple of 8, by the caller (zero weights), so
the innermost loops have no scalar tail.  The hot loops are written in C below with
``restrict`` pointers and, with GCC on x86-64 Linux, compiled twice (``target_clones``:
AVX2 and baseline) and picked at load time.  They do only element-wise additions and
comparisons (no FMA, no floating-point reductions), so every clone gives bit-identical
results.  Set ``WB_NO_CLONES`` (``CFLAGS=-DWB_NO_CLONES``) to build the baseline only.

Summation order: a potential at step ``t`` is the running sum over spikes in ``(t', c,
y, x)`` order, so it differs from a direct per-step correlation (or Spyker's) only by
float rounding; a potential within rounding of the threshold may then fire one step
apart from Spyker.
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int32_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset
from cython cimport floating


cdef inline Py_ssize_t _imax(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a > b else b


cdef inline Py_ssize_t _imin(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
    #if defined(_MSC_VER)
    #define WB_RESTRICT __restrict
    #else
    #define WB_RESTRICT restrict
    #endif
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \\
        && !defined(WB_NO_CLONES)
    #define WB_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define WB_CLONES
    #endif

    /* Whether a[j] > b[j] for one of 8 lanes.  With GCC/Clang, vector extensions make it
       one vector compare (in the AVX2 clone) and an OR of the mask's words. */
    #if defined(__GNUC__)
    typedef float wb_v8f __attribute__((vector_size(32)));
    typedef int32_t wb_v8i __attribute__((vector_size(32)));
    typedef double wb_v4d __attribute__((vector_size(32)));
    typedef int64_t wb_v4l __attribute__((vector_size(32)));
    static inline int wb_any8_f32(const float *a, const float *b)
    {
        wb_v8f va, vb;
        uint64_t q[4];
        memcpy(&va, a, 32);
        memcpy(&vb, b, 32);
        wb_v8i m = va > vb;
        memcpy(q, &m, 32);
        return (q[0] | q[1] | q[2] | q[3]) != 0;
    }
    static inline int wb_any8_f64(const double *a, const double *b)
    {
        wb_v4d a0, a1, b0, b1;
        uint64_t q[4];
        memcpy(&a0, a, 32);
        memcpy(&a1, a + 4, 32);
        memcpy(&b0, b, 32);
        memcpy(&b1, b + 4, 32);
        wb_v4l m = (a0 > b0) | (a1 > b1);
        memcpy(q, &m, 32);
        return (q[0] | q[1] | q[2] | q[3]) != 0;
    }
    #else
    static int wb_any8_f32(const float *a, const float *b)
    {
        int any = 0;
        for (int j = 0; j < 8; j++) any |= a[j] > b[j];
        return any;
    }
    static int wb_any8_f64(const double *a, const double *b)
    {
        int any = 0;
        for (int j = 0; j < 8; j++) any |= a[j] > b[j];
        return any;
    }
    #endif

    /* Bucket-sort one sample's spikes by input row and step: the spikes of input row
       r = c * H + y at step t are xs[rstart[r * (T + 1) + t] .. rstart[r * (T + 1) + t + 1])
       (their columns, ascending).  Done once per sample, reused by all output rows. */
    static void wb_sort_sample(const int32_t *WB_RESTRICT tm, Py_ssize_t CH, Py_ssize_t W,
                               int32_t T, Py_ssize_t *WB_RESTRICT rstart,
                               int32_t *WB_RESTRICT xs)
    {
        Py_ssize_t base = 0;
        for (Py_ssize_t r = 0; r < CH; r++) {
            const int32_t *row = tm + r * W;
            Py_ssize_t *st = rstart + r * (T + 1);
            for (int32_t t = 0; t <= T; t++) st[t] = 0;
            for (Py_ssize_t x = 0; x < W; x++)
                if (row[x] < T) st[row[x] + 1]++;
            st[0] = base;
            for (int32_t t = 0; t < T; t++) st[t + 1] += st[t];
            /* fill, using st[t] as the cursor of step t, then shift the offsets back */
            for (Py_ssize_t x = 0; x < W; x++)
                if (row[x] < T) xs[st[row[x]]++] = (int32_t)x;
            for (int32_t t = T; t > 0; t--) st[t] = st[t - 1];
            st[0] = base;
            base = st[T];
        }
    }

    /* Add the spikes of step t seen by the output row into pot (Wo, Fp), in ascending
       (c, y, x) order; cl/ch receive the touched column range. */
    #define WB_ADD_STEP(REAL)                                                                 \\
        for (Py_ssize_t c = 0; c < C; c++) {                                                  \\
            for (Py_ssize_t ky = ky0; ky < ky1; ky++) {                                       \\
                const Py_ssize_t *st = rstart + (c * H + y0 + ky) * (T + 1) + t;              \\
                const REAL *wk = wT + (c * kh + ky) * kw * Fp;                                \\
                for (Py_ssize_t k = st[0]; k < st[1]; k++) {                                  \\
                    Py_ssize_t x = xs[k], lo, hi;                                             \\
                    if (sx == 1) {                                                            \\
                        lo = x + px - kw + 1;                                                 \\
                        if (lo < 0) lo = 0;                                                   \\
                        hi = x + px;                                                          \\
                    } else {                                                                  \\
                        Py_ssize_t num = x + px - kw + 1;                                     \\
                        lo = num <= 0 ? 0 : (num + sx - 1) / sx;                              \\
                        hi = (x + px) / sx;                                                   \\
                    }                                                                         \\
                    if (hi > Wo - 1) hi = Wo - 1;                                             \\
                    if (lo < cl) cl = lo;                                                     \\
                    if (hi > ch) ch = hi;                                                     \\
                    for (Py_ssize_t ox = lo; ox <= hi; ox++) {                                \\
                        REAL *WB_RESTRICT hp = pot + ox * Fp;                                 \\
                        const REAL *WB_RESTRICT wp = wk + (x + px - ox * sx) * Fp;            \\
                        for (Py_ssize_t f = 0; f < Fp; f += 8)                                \\
                            for (int j = 0; j < 8; j++) hp[f + j] += wp[f + j];               \\
                    }                                                                         \\
                }                                                                             \\
            }                                                                                 \\
        }

    #define WB_ROW_ARGS(REAL)                                                                 \\
        const Py_ssize_t *WB_RESTRICT rstart, const int32_t *WB_RESTRICT xs,                  \\
        const REAL *WB_RESTRICT wT, REAL *WB_RESTRICT pot, Py_ssize_t C, Py_ssize_t H,        \\
        Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t y0, Py_ssize_t Wo, Py_ssize_t F,             \\
        Py_ssize_t Fp, Py_ssize_t sx, Py_ssize_t px, int32_t T, Py_ssize_t HoWo

    #define WB_ROW_PROLOGUE                                                                   \\
        Py_ssize_t ky0 = y0 < 0 ? -y0 : 0;                                                    \\
        Py_ssize_t ky1 = H - y0 < kh ? H - y0 : kh;                                           \\
        for (Py_ssize_t i = 0; i < Wo * Fp; i++) pot[i] = 0;

    /* Event-driven conv + fire of one output row: tl/pl (F, Wo) rows of the outputs
       (row stride HoWo).  lthr holds thr for neurons still waiting and +inf for
       neurons done or padded, so the per-column test is one vectorisable compare. */
    #define WB_FIRE_ROW(NAME, REAL, ANY8)                                                     \\
    WB_CLONES static void NAME(WB_ROW_ARGS(REAL), REAL thr, REAL *WB_RESTRICT lthr,           \\
                               int32_t *WB_RESTRICT tl, REAL *WB_RESTRICT pl)                 \\
    {                                                                                         \\
        WB_ROW_PROLOGUE                                                                       \\
        Py_ssize_t alive = Wo * F;                                                            \\
        for (Py_ssize_t ox = 0; ox < Wo; ox++)                                                \\
            for (Py_ssize_t f = 0; f < Fp; f++)                                               \\
                lthr[ox * Fp + f] = f < F ? thr : (REAL)INFINITY;                             \\
        for (Py_ssize_t f = 0; f < F; f++)                                                    \\
            for (Py_ssize_t ox = 0; ox < Wo; ox++) {                                          \\
                tl[f * HoWo + ox] = T;                                                        \\
                pl[f * HoWo + ox] = 0;                                                        \\
            }                                                                                 \\
        for (int32_t t = 0; t < T && alive > 0; t++) {                                        \\
            Py_ssize_t cl = Wo, ch = -1;                                                      \\
            WB_ADD_STEP(REAL)                                                                 \\
            /* untouched potentials cannot cross, except 0 > thr at t = 0 */                 \\
            if (t == 0 && thr < 0) { cl = 0; ch = Wo - 1; }                                   \\
            for (Py_ssize_t ox = cl; ox <= ch; ox++) {                                        \\
                const REAL *hp = pot + ox * Fp;                                               \\
                REAL *lt = lthr + ox * Fp;                                                    \\
                /* blocks of 8 lanes: a vector compare, then lane by lane only in a       */  \\
                /* block with a new crossing (padded lanes have lt = inf: never true)     */  \\
                for (Py_ssize_t f8 = 0; f8 < Fp; f8 += 8) {                                   \\
                    if (!ANY8(hp + f8, lt + f8)) continue;                                    \\
                    for (Py_ssize_t f = f8; f < f8 + 8; f++) {                                \\
                        if (hp[f] > lt[f]) {                                                  \\
                            tl[f * HoWo + ox] = t;                                            \\
                            pl[f * HoWo + ox] = hp[f];                                        \\
                            lt[f] = (REAL)INFINITY;                                           \\
                            alive--;                                                          \\
                        }                                                                     \\
                    }                                                                         \\
                }                                                                             \\
            }                                                                                 \\
        }                                                                                     \\
    }

    /* Dense conv of one output row: out rows (T, F) of Wo values, row stride HoWo. */
    #define WB_DENSE_ROW(NAME, REAL)                                                          \\
    WB_CLONES static void NAME(WB_ROW_ARGS(REAL), REAL *WB_RESTRICT out)                      \\
    {                                                                                         \\
        WB_ROW_PROLOGUE                                                                       \\
        for (int32_t t = 0; t < T; t++) {                                                     \\
            Py_ssize_t cl = Wo, ch = -1;                                                      \\
            WB_ADD_STEP(REAL)                                                                 \\
            (void)cl; (void)ch;                                                               \\
            for (Py_ssize_t f = 0; f < F; f++) {                                              \\
                REAL *op = out + ((Py_ssize_t)t * F + f) * HoWo;                              \\
                for (Py_ssize_t ox = 0; ox < Wo; ox++) op[ox] = pot[ox * Fp + f];             \\
            }                                                                                 \\
        }                                                                                     \\
    }

    WB_FIRE_ROW(wb_fire_row_f32, float, wb_any8_f32)
    WB_FIRE_ROW(wb_fire_row_f64, double, wb_any8_f64)
    WB_DENSE_ROW(wb_dense_row_f32, float)
    WB_DENSE_ROW(wb_dense_row_f64, double)
    """
    void wb_sort_sample(const int32_t* tm, Py_ssize_t CH, Py_ssize_t W, int32_t T,
                        Py_ssize_t* rstart, int32_t* xs) noexcept nogil
    void wb_fire_row_f32(const Py_ssize_t* rstart, const int32_t* xs, const float* wT,
                         float* pot, Py_ssize_t C, Py_ssize_t H, Py_ssize_t kh, Py_ssize_t kw,
                         Py_ssize_t y0, Py_ssize_t Wo, Py_ssize_t F, Py_ssize_t Fp,
                         Py_ssize_t sx, Py_ssize_t px, int32_t T, Py_ssize_t HoWo, float thr,
                         float* lthr, int32_t* tl, float* pl) noexcept nogil
    void wb_fire_row_f64(const Py_ssize_t* rstart, const int32_t* xs, const double* wT,
                         double* pot, Py_ssize_t C, Py_ssize_t H, Py_ssize_t kh, Py_ssize_t kw,
                         Py_ssize_t y0, Py_ssize_t Wo, Py_ssize_t F, Py_ssize_t Fp,
                         Py_ssize_t sx, Py_ssize_t px, int32_t T, Py_ssize_t HoWo, double thr,
                         double* lthr, int32_t* tl, double* pl) noexcept nogil
    void wb_dense_row_f32(const Py_ssize_t* rstart, const int32_t* xs, const float* wT,
                          float* pot, Py_ssize_t C, Py_ssize_t H, Py_ssize_t kh, Py_ssize_t kw,
                          Py_ssize_t y0, Py_ssize_t Wo, Py_ssize_t F, Py_ssize_t Fp,
                          Py_ssize_t sx, Py_ssize_t px, int32_t T, Py_ssize_t HoWo,
                          float* out) noexcept nogil
    void wb_dense_row_f64(const Py_ssize_t* rstart, const int32_t* xs, const double* wT,
                          double* pot, Py_ssize_t C, Py_ssize_t H, Py_ssize_t kh, Py_ssize_t kw,
                          Py_ssize_t y0, Py_ssize_t Wo, Py_ssize_t F, Py_ssize_t Fp,
                          Py_ssize_t sx, Py_ssize_t px, int32_t T, Py_ssize_t HoWo,
                          double* out) noexcept nogil


cdef void _hist_steps(const uint8_t* wv, const floating* wT, floating* hist,
                      Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                      Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t Fp,
                      Py_ssize_t y0, Py_ssize_t x0, int T) noexcept nogil:
    """Per-step correlation of one sample's ``(T, C, H, W)`` wave (any uint8 values).

    Used for waves that are not cumulative 0/1: ``hist[t, :]`` receives the potential of
    step ``t`` directly (no running sum), exactly like a per-step cross-correlation.
    """
    cdef Py_ssize_t c, ky, kx, f, t
    cdef Py_ssize_t ky0 = _imax(0, -y0), ky1 = _imin(kh, H - y0)
    cdef Py_ssize_t kx0 = _imax(0, -x0), kx1 = _imin(kw, W - x0)
    cdef Py_ssize_t CHW = C * H * W
    cdef const uint8_t* row
    cdef const floating* wp
    cdef floating* hp
    cdef floating v
    for t in range(T):
        hp = hist + t * Fp
        for c in range(C):
            for ky in range(ky0, ky1):
                row = wv + t * CHW + (c * H + y0 + ky) * W + x0
                wp = wT + ((c * kh + ky) * kw) * Fp
                for kx in range(kx0, kx1):
                    if row[kx] != 0:
                        v = <floating>row[kx]
                        for f in range(Fp):
                            hp[f] += v * wp[kx * Fp + f]


cdef bint _to_timemap(const uint8_t* wv, int32_t* tm, Py_ssize_t CHW, int T) noexcept nogil:
    """Fill ``tm`` with first-spike steps if the sample's wave is cumulative 0/1.

    Returns False (``tm`` then undefined) when some value exceeds 1 or some neuron
    switches off again, i.e. the wave is not cumulative.
    """
    cdef Py_ssize_t i
    cdef int t
    cdef uint8_t v, p
    for i in range(CHW):
        tm[i] = T
    for t in range(T):
        for i in range(CHW):
            v = wv[t * CHW + i]
            p = wv[(t - 1) * CHW + i] if t > 0 else 0
            if v > 1 or v < p:
                return False
            # first step with a 1 is T minus the number of ones of a cumulative neuron
            tm[i] -= v
    return True


def conv_wave(const uint8_t[:, :, :, :, ::1] wave, const floating[:, :, :, ::1] wT,
              floating[:, :, :, :, ::1] out, int sy, int sx, int py, int px,
              int num_threads):
    """Dense conv: ``out[b, t, f, oy, ox]`` from ``wave (B, T, C, H, W)``.

    ``wT`` is the weight transposed to ``(C, kh, kw, Fp)`` (zero-padded features);
    ``out`` is ``(B, T, F, Ho, Wo)``.  Cumulative 0/1 samples go through the sorted
    spike replay (the same arithmetic as :func:`conv_fire_timemap`); other samples
    through the per-step histogram.
    """
    cdef Py_ssize_t B = wave.shape[0], C = wave.shape[2], H = wave.shape[3], W = wave.shape[4]
    cdef int T = <int>wave.shape[1]
    cdef Py_ssize_t kh = wT.shape[1], kw = wT.shape[2], Fp = wT.shape[3]
    cdef Py_ssize_t F = out.shape[2], Ho = out.shape[3], Wo = out.shape[4]
    cdef Py_ssize_t CHW = C * H * W, HoWo = Ho * Wo, TF = T * Fp
    cdef Py_ssize_t b, oy, ox, i
    cdef floating* pot = NULL
    cdef floating* hist = NULL
    cdef int32_t* tm = NULL
    cdef Py_ssize_t* rstart = NULL
    cdef int32_t* xs = NULL
    cdef floating* op
    cdef const uint8_t* wv
    cdef bint cumulative
    cdef int failed_flag = 0
    cdef int* failed = &failed_flag
    if B == 0:
        return
    with nogil, parallel(num_threads=num_threads):
        pot = <floating*>malloc(Wo * Fp * sizeof(floating))
        hist = <floating*>malloc(TF * sizeof(floating))
        tm = <int32_t*>malloc(CHW * sizeof(int32_t))
        rstart = <Py_ssize_t*>malloc(C * H * (T + 1) * sizeof(Py_ssize_t))
        xs = <int32_t*>malloc(CHW * sizeof(int32_t))
        for b in prange(B, schedule="static"):
            if pot == NULL or hist == NULL or tm == NULL or rstart == NULL or xs == NULL:
                failed[0] = 1  # through a pointer: shared, not a thread-private copy
                continue
            wv = &wave[b, 0, 0, 0, 0]
            cumulative = _to_timemap(wv, tm, CHW, T)
            if cumulative:
                wb_sort_sample(tm, C * H, W, T, rstart, xs)
            for oy in range(Ho):
                if cumulative:
                    if floating is float:
                        wb_dense_row_f32(rstart, xs, &wT[0, 0, 0, 0], pot, C, H, kh, kw,
                                         oy * sy - py, Wo, F, Fp, sx, px, T, HoWo,
                                         &out[b, 0, 0, oy, 0])
                    else:
                        wb_dense_row_f64(rstart, xs, &wT[0, 0, 0, 0], pot, C, H, kh, kw,
                                         oy * sy - py, Wo, F, Fp, sx, px, T, HoWo,
                                         &out[b, 0, 0, oy, 0])
                else:
                    for ox in range(Wo):
                        memset(hist, 0, TF * sizeof(floating))
                        _hist_steps(wv, &wT[0, 0, 0, 0], hist, C, H, W, kh, kw, Fp,
                                    oy * sy - py, ox * sx - px, T)
                        op = &out[b, 0, 0, oy, ox]
                        for i in range(T * F):
                            op[i * HoWo] = hist[(i // F) * Fp + i % F]
        free(pot)
        free(hist)
        free(tm)
        free(rstart)
        free(xs)
    if failed_flag:
        raise MemoryError("conv_wave: could not allocate the per-thread work buffers")


def conv_fire_timemap(const int32_t[:, :, :, ::1] tmap, const floating[:, :, :, ::1] wT,
                      int32_t[:, :, :, ::1] out_t, floating[:, :, :, ::1] out_p,
                      double threshold, int T, int sy, int sx, int py, int px,
                      int num_threads):
    """Event-driven conv + fire: first step with potential > threshold, and that potential.

    ``tmap`` is ``(B, C, H, W)`` with values in ``[0, T]``; ``wT`` is ``(C, kh, kw, Fp)``
    (zero-padded features); ``out_t``/``out_p`` are ``(B, F, Ho, Wo)``.  Never-firing
    outputs get ``T`` and ``0``.
    """
    cdef Py_ssize_t B = tmap.shape[0], C = tmap.shape[1], H = tmap.shape[2], W = tmap.shape[3]
    cdef Py_ssize_t kh = wT.shape[1], kw = wT.shape[2], Fp = wT.shape[3]
    cdef Py_ssize_t F = out_t.shape[1], Ho = out_t.shape[2], Wo = out_t.shape[3]
    cdef Py_ssize_t HoWo = Ho * Wo
    cdef Py_ssize_t b, oy
    # the comparison is made in the weights' precision, as NumPy does for
    # ``float32_array > python_float``, so this equals first_spike(conv(...)) exactly
    cdef floating thr = <floating>threshold
    cdef floating* pot = NULL
    cdef floating* lthr = NULL
    cdef Py_ssize_t* rstart = NULL
    cdef int32_t* xs = NULL
    cdef int failed_flag = 0
    cdef int* failed = &failed_flag
    if B == 0:
        return
    with nogil, parallel(num_threads=num_threads):
        pot = <floating*>malloc(Wo * Fp * sizeof(floating))
        lthr = <floating*>malloc(Wo * Fp * sizeof(floating))
        rstart = <Py_ssize_t*>malloc(C * H * (T + 1) * sizeof(Py_ssize_t))
        xs = <int32_t*>malloc(C * H * W * sizeof(int32_t))
        for b in prange(B, schedule="static"):
            if pot == NULL or lthr == NULL or rstart == NULL or xs == NULL:
                failed[0] = 1  # through a pointer: shared, not a thread-private copy
                continue
            wb_sort_sample(&tmap[b, 0, 0, 0], C * H, W, T, rstart, xs)
            for oy in range(Ho):
                if floating is float:
                    wb_fire_row_f32(rstart, xs, &wT[0, 0, 0, 0], pot, C, H, kh, kw,
                                    oy * sy - py, Wo, F, Fp, sx, px, T, HoWo, thr, lthr,
                                    &out_t[b, 0, oy, 0], &out_p[b, 0, oy, 0])
                else:
                    wb_fire_row_f64(rstart, xs, &wT[0, 0, 0, 0], pot, C, H, kh, kw,
                                    oy * sy - py, Wo, F, Fp, sx, px, T, HoWo, thr, lthr,
                                    &out_t[b, 0, oy, 0], &out_p[b, 0, oy, 0])
        free(pot)
        free(lthr)
        free(rstart)
        free(xs)
    if failed_flag:
        raise MemoryError("conv_fire_timemap: could not allocate the per-thread work buffers")
