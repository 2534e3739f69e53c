"""The spiking-network simulator (CPU core in Cython).

Data model
----------
images : float32/float64, ``(B, C, H, W)``
wave : uint8, ``(B, T, C, H, W)`` cumulative: ``wave[b, t] == 1`` iff the neuron fired
    at or before step ``t`` (Spyker / SpykeTorch layout).
time map : int32, ``(B, C, H, W)`` first-spike step, ``T`` meaning "never fired"
    (lossless with :func:`gather` / :func:`scatter`).
potentials : float, ``(B, T, C, H, W)`` per-step membrane potentials of a dense layer.
winners : int32, ``(n, 5)`` rows ``(batch, feature, time, y, x)`` in selection order.

This package never imports the analysis layer (``workbench.neural``, ``rsa``,
``decoding``, ``plots``).
"""

from ._coding import *  # noqa: F401,F403
from ._coding import __all__ as _a_coding
from ._filters import *  # noqa: F401,F403
from ._filters import __all__ as _a_filters
from ._conv import *  # noqa: F401,F403
from ._conv import __all__ as _a_conv
from ._pool import *  # noqa: F401,F403
from ._pool import __all__ as _a_pool
from ._fire import *  # noqa: F401,F403
from ._fire import __all__ as _a_fire
from ._inhibit import *  # noqa: F401,F403
from ._inhibit import __all__ as _a_inhibit
from ._wta import *  # noqa: F401,F403
from ._wta import __all__ as _a_wta
from ._stdp import *  # noqa: F401,F403
from ._stdp import __all__ as _a_stdp
from ._decision import *  # noqa: F401,F403
from ._decision import __all__ as _a_decision
from . import sparse  # noqa: F401  (event-driven path on time maps)
from .._threads import get_num_threads, num_threads, set_num_threads

__all__ = [*_a_coding, *_a_filters, *_a_conv, *_a_pool, *_a_fire, *_a_inhibit, *_a_wta, *_a_stdp, *_a_decision, "sparse", "get_num_threads", "set_num_threads", "num_threads"]
