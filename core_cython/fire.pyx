# cython: language_level=3
"""Inner loops of :mod:`workbench.snn._fire` (firing and first-spike extraction).

Every kernel works on potentials flattened to ``(B, T, N)`` (C-contiguous) and writes into
arrays the caller allocated.  Inputs are trusted: validation lives in the Python module.
The batch axis is split across OpenMP threads; each sample is independent.
"""

from cython.parallel cimport prange

ctypedef fused floating:
    float
    double


def rank_fire(const floating[:, :, ::1] pot, double threshold,
              unsigned char[:, :, ::1] out, int num_threads):
    """Cumulative threshold firing: ``out[b, t, n] = any(pot[b, :t+1, n] > threshold)``."""
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], N = pot.shape[2]
    cdef Py_ssize_t b, t, n
    # The comparison happens in the potentials' own precision, as Spyker does.
    cdef floating th = <floating>threshold
    cdef const floating* p
    cdef unsigned char* o
    if B == 0 or T == 0 or N == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        # Raw row pointers: the contiguous inner loops vectorise (memoryview indexing did not,
        # and ran 7x slower than a NumPy comparison).
        p = &pot[b, 0, 0]
        o = &out[b, 0, 0]
        for n in range(N):
            o[n] = p[n] > th
        for t in range(1, T):
            for n in range(N):
                # once fired, stays fired (cumulative wave)
                o[t * N + n] = o[(t - 1) * N + n] | (p[t * N + n] > th)


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


def first_spike(const floating[:, :, ::1] pot, double threshold,
                int[:, ::1] tmap, floating[:, ::1] spike, int num_threads):
    """First step with ``pot > threshold`` (``T`` if none) and the potential there (0 if none).

    ``tmap`` must be filled with ``T`` and ``spike`` with 0 by the caller.
    """
    cdef Py_ssize_t B = pot.shape[0], T = pot.shape[1], N = pot.shape[2]
    cdef Py_ssize_t b, t, n
    cdef floating th = <floating>threshold
    cdef int Ti = <int>T
    cdef const floating* p
    cdef int* tm
    cdef floating* sp
    if B == 0 or T == 0 or N == 0:
        return
    for b in prange(B, nogil=True, num_threads=num_threads, schedule="static"):
        p = &pot[b, 0, 0]
        tm = &tmap[b, 0]
        sp = &spike[b, 0]
        # t outermost keeps the reads contiguous; the "not yet fired" test is a cheap branch
        for t in range(T):
            for n in range(N):
                if tm[n] == Ti and p[t * N + n] > th:
                    tm[n] = <int>t
                    sp[n] = p[t * N + n]
