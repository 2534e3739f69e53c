"""Thread count used by the compiled kernels (OpenMP across the batch).

Default: ``WORKBENCH_NUM_THREADS`` if set, else ``OMP_NUM_THREADS``, else the number of
CPUs.  Kernels receive the count as an argument, so a change takes effect immediately.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

_num_threads: int | None = None


def _default() -> int:
    for var in ("WORKBENCH_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:  # the CPUs this process may run on (affinity, cgroup cpusets), not the machine's
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Number of threads the kernels use."""
    return _num_threads if _num_threads is not None else _default()


def set_num_threads(n: int | None) -> None:
    """Set the kernels' thread count (``None`` restores the default)."""
    global _num_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int)):
        raise TypeError(f"n must be an int or None, got {type(n).__name__}")
    if n is not None and n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _num_threads = n


# Below this many elements a parallel region costs more than it saves (thread wake-up is
# tens of microseconds, far more on an oversubscribed machine), so small calls run serially.
PARALLEL_MIN_WORK = 1 << 16


def kernel_threads(work: int, batch: int) -> int:
    """Threads for a kernel parallel over ``batch`` samples with ``work`` elements in all:
    one for small calls, else at most one per sample."""
    if work < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(get_num_threads(), batch))


@contextmanager
def num_threads(n: int):
    """Context manager: run the enclosed kernels with ``n`` threads."""
    previous = _num_threads
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)
