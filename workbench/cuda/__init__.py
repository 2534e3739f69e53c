"""The CUDA core: every spiking op on the GPU through CuPy, same API as :mod:`workbench.snn`.

CuPy arrays in, GPU kernels, CuPy arrays out.  Without CuPy or a device the package imports
and runs on the CPU unchanged; :func:`devices` reports what is available.
Kernels live in ``cuda/*.cu`` and are compiled at run time (NVRTC), so installing needs no
CUDA toolchain.
"""

from ._ops import *  # noqa: F401,F403
from ._ops import __all__ as _ops_all
from ._runtime import gpu_available, is_cupy_array

__all__ = [*_ops_all, "gpu_available", "is_cupy_array"]
