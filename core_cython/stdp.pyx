# cython: language_level=3
"""STDP weight-update kernel (inner loops only; ``workbench.snn._stdp`` validates).

One kernel serves Conv and FC layers (an FC layer is a conv layer with a 1x1 kernel on a
1x1 map).  Updates of different features touch disjoint kernels, so the features are
processed in parallel while each feature's winners are applied in their given order;
the result is therefore identical to a fully sequential loop over the winners.
"""

from cython.parallel cimport prange

ctypedef fused weight_t:
    float
    double


def stdp_update(weight_t[:, :, :, ::1] weight,
                const int[:, :, :, ::1] pre,
                const int[:, ::1] winners,
                const Py_ssize_t[::1] order,
                const Py_ssize_t[::1] starts,
                const weight_t[::1] a_plus,
                const weight_t[::1] a_minus,
                const weight_t[::1] lower,
                const weight_t[::1] upper,
                const unsigned char[::1] stabilize,
                int sh, int sw, int num_threads):
    """Apply the winners' STDP updates to ``weight`` (F, C, kh, kw) in place.

    ``pre`` is the padded presynaptic time map (B, C, Hp, Wp); a never-fired input holds
    a value larger than every winner time.  ``order[starts[f]:starts[f + 1]]`` lists the
    winners of feature ``f`` in application order.  Per-winner rates and bounds allow
    R-STDP (reward or punish configuration per winner) with the same kernel.
    """
    cdef Py_ssize_t F = weight.shape[0], C = weight.shape[1]
    cdef Py_ssize_t kh = weight.shape[2], kw = weight.shape[3]
    cdef Py_ssize_t f, k, i, b, c, u, v, y0, x0
    cdef int t
    cdef weight_t w, a, lo, hi, ap, am
    cdef bint stab
    for f in prange(F, nogil=True, num_threads=num_threads, schedule="dynamic"):
        for k in range(starts[f], starts[f + 1]):
            i = order[k]
            b = winners[i, 0]
            t = winners[i, 2]
            y0 = winners[i, 3] * sh
            x0 = winners[i, 4] * sw
            ap = a_plus[i]
            am = a_minus[i]
            lo = lower[i]
            hi = upper[i]
            stab = stabilize[i] != 0
            for c in range(C):
                for u in range(kh):
                    for v in range(kw):
                        w = weight[f, c, u, v]
                        # Pre fired at or before the post spike -> potentiation.
                        if pre[b, c, y0 + u, x0 + v] <= t:
                            a = ap
                        else:
                            a = am
                        if stab:
                            w = w + a * (w - lo) * (hi - w)
                        else:
                            w = w + a
                        if w < lo:
                            w = lo
                        elif w > hi:
                            w = hi
                        weight[f, c, u, v] = w

