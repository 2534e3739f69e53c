# distutils: language = c++
"""Inner loops of spike coding (rank order, linear latency) and wave <-> time-map conversion.

Kernels trust their inputs: ``workbench.snn._coding`` validates shapes, dtypes and
ranges and passes C-contiguous arrays.  The batch is parallelised with OpenMP.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from libc.math cimport fma, fmaf
from libcpp.algorithm cimport sort as cpp_sort

ctypedef fused floating:
    float
    double

# Added to T before scaling, as Spyker does, so that an exact bin edge r*T/n == k lands in
# bin k rather than k-1 after float rounding (Spyker's ``Epsilon``, measured as 1e-5).
cdef float EPSILON = 1e-5


cdef struct Key64:
    uint64_t key
    uint32_t index


cdef inline bint _key64_less(const Key64& a, const Key64& b) noexcept nogil:
    if a.key != b.key:
        return a.key < b.key
    return a.index < b.index


cdef inline uint32_t _desc_key32(float v) noexcept nogil:
    # Map a float to an unsigned key whose ascending order is the float's DESCENDING order.
    # -0.0 and +0.0 are equal values, so both are mapped from +0.0 (ties then fall to index).
    cdef uint32_t u
    if v == 0:
        v = 0
    memcpy(&u, &v, 4)
    if u & 0x80000000u:
        u = ~u
    else:
        u = u | 0x80000000u
    return ~u


cdef inline uint64_t _desc_key64(double v) noexcept nogil:
    cdef uint64_t u
    if v == 0:
        v = 0
    memcpy(&u, &v, 8)
    if u & 0x8000000000000000ull:
        u = ~u
    else:
        u = u | 0x8000000000000000ull
    return ~u


cdef void _rank_one_f32(const float* x, int32_t* out, Py_ssize_t n, int T, uint64_t* buf) noexcept nogil:
    cdef Py_ssize_t i, r, above = 0
    cdef float mn = x[0]
    cdef float scale
    cdef long step
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
    for i in range(n):
        if x[i] > mn:
            # Only values above the minimum spike: sort just those (key high word, index low
            # word, so equal values keep ascending flat-index order).
            buf[above] = ((<uint64_t>_desc_key32(x[i])) << 32) | <uint64_t>i
            above += 1
        else:
            out[i] = T
    if above == 0:
        return
    cpp_sort(buf, buf + above)
    # Spyker: step = (U16)(rank * F32(T + eps) / n) in float32 arithmetic; mirrored exactly.
    scale = (<float>T + EPSILON) / <float>above
    for r in range(above):
        step = <long>(<float>r * scale)
        if step > T:
            step = T
        out[<Py_ssize_t>(buf[r] & 0xFFFFFFFFu)] = <int32_t>step


cdef void _rank_one_f64(const double* x, int32_t* out, Py_ssize_t n, int T, Key64* buf) noexcept nogil:
    cdef Py_ssize_t i, r, above = 0
    cdef double mn = x[0]
    cdef float scale
    cdef long step
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
    for i in range(n):
        if x[i] > mn:
            buf[above].key = _desc_key64(x[i])
            buf[above].index = <uint32_t>i
            above += 1
        else:
            out[i] = T
    if above == 0:
        return
    cpp_sort(buf, buf + above, _key64_less)
    scale = (<float>T + EPSILON) / <float>above
    for r in range(above):
        step = <long>(<float>r * scale)
        if step > T:
            step = T
        out[<Py_ssize_t>buf[r].index] = <int32_t>step


def rank_timemap_f32(const float[:, ::1] x, int32_t[:, ::1] out, int T, int num_threads):
    """Rank-order first-spike steps per row of ``x`` (B, N) float32 into ``out`` (B, N)."""
    cdef Py_ssize_t B = x.shape[0], N = x.shape[1], b
    cdef uint64_t* buf
    with nogil:
        for b in prange(B, schedule="dynamic", num_threads=num_threads):
            buf = <uint64_t*> malloc(N * sizeof(uint64_t))
            _rank_one_f32(&x[b, 0], &out[b, 0], N, T, buf)
            free(buf)


def rank_timemap_f64(const double[:, ::1] x, int32_t[:, ::1] out, int T, int num_threads):
    """Rank-order first-spike steps per row of ``x`` (B, N) float64 into ``out`` (B, N)."""
    cdef Py_ssize_t B = x.shape[0], N = x.shape[1], b
    cdef Key64* buf
    with nogil:
        for b in prange(B, schedule="dynamic", num_threads=num_threads):
            buf = <Key64*> malloc(N * sizeof(Key64))
            _rank_one_f64(&x[b, 0], &out[b, 0], N, T, buf)
            free(buf)


def latency_timemap(const floating[:, ::1] x, int32_t[:, ::1] out, int T, int num_threads):
    """Linear-latency first-spike steps per row of ``x`` (B, N) into ``out`` (B, N).

    Mirrors Spyker's arithmetic: ``end = T + eps`` (float32), ``scale = end / (max - min)``
    stored as float32, ``step = trunc(end - scale * (x - min))`` evaluated in the input
    precision with a fused multiply-add, clamped to ``[0, T]``; values equal to the minimum get ``T`` (never).
    """
    cdef Py_ssize_t B = x.shape[0], N = x.shape[1], b, i
    cdef floating mn, mx, v
    cdef float end = <float>T + EPSILON
    cdef float scale
    cdef floating temp
    cdef long step
    cdef const floating* xb
    cdef int32_t* ob
    with nogil:
        for b in prange(B, schedule="static", num_threads=num_threads):
            xb = &x[b, 0]
            ob = &out[b, 0]
            mn = xb[0]
            mx = xb[0]
            for i in range(1, N):
                v = xb[i]
                if v < mn:
                    mn = v
                if v > mx:
                    mx = v
            if mx == mn:
                for i in range(N):
                    ob[i] = T
                continue
            scale = <float>(end / (mx - mn))
            for i in range(N):
                v = xb[i]
                if v == mn:
                    ob[i] = T
                    continue
                # Spyker's build contracts ``end - scale * (v - min)`` into one fused
                # multiply-add (observed: 1000 - 1000 * 0.6f gives 399, not 400), so
                # the same single rounding is used here for bit-identical bins.
                if floating is float:
                    temp = fmaf(-scale, v - mn, end)
                else:
                    temp = fma(-<double>scale, v - mn, <double>end)
                if temp <= 0:
                    step = 0
                else:
                    step = <long>temp
                if step > T:
                    step = T
                ob[i] = <int32_t>step


def gather(const uint8_t[:, :, ::1] wave, int32_t[:, ::1] out, int num_threads):
    """First step with a non-zero entry along axis 1 of ``wave`` (B, T, N); ``T`` if none."""
    cdef Py_ssize_t B = wave.shape[0], T = wave.shape[1], N = wave.shape[2], b, t, i
    cdef int32_t* o
    cdef const uint8_t* w
    cdef int32_t tt
    with nogil:
        for b in prange(B, schedule="static", num_threads=num_threads):
            o = &out[b, 0]
            for i in range(N):
                o[i] = <int32_t>T
            # Walk time backwards so each neuron ends with its earliest non-zero step;
            # rows are read contiguously and the select is branch-free (vectorisable).
            for t in range(T - 1, -1, -1):
                w = &wave[b, t, 0]
                tt = <int32_t>t
                for i in range(N):
                    o[i] = tt if w[i] != 0 else o[i]


def scatter(const int32_t[:, ::1] tmap, uint8_t[:, :, ::1] out, int num_threads):
    """Cumulative wave ``out`` (B, T, N) from first-spike steps ``tmap`` (B, N)."""
    cdef Py_ssize_t B = out.shape[0], T = out.shape[1], N = out.shape[2], b, t, i
    cdef int32_t tt
    cdef const int32_t* m
    cdef uint8_t* o
    with nogil:
        for b in prange(B, schedule="static", num_threads=num_threads):
            m = &tmap[b, 0]
            for t in range(T):
                tt = <int32_t>t
                o = &out[b, t, 0]
                # branch-free so the compiler can vectorise the row
                for i in range(N):
                    o[i] = <uint8_t>(m[i] <= tt)
