"""workbench: fast spiking networks and model-vs-brain comparison.

Two layers that never import each other:

- :mod:`workbench.snn` -- the simulator: filters, coding, layers, competition,
  STDP/R-STDP, on dense spike-waves and on event-driven time maps.
- :mod:`workbench.neural`, :mod:`workbench.rsa`, :mod:`workbench.decoding`,
  :mod:`workbench.plots` -- the analysis layer: recordings through Neo/Elephant,
  RSA, decoding and figures.

They meet in one representation, a labelled :class:`xarray.DataArray` of
responses with dims ``(stimulus|trial, unit, time)``.
"""

from importlib import import_module as _import_module

from ._warnings import WorkbenchWarning

__version__ = "0.1.0"
__all__ = ["WorkbenchWarning", "__version__", "devices", "snn", "neural", "rsa", "decoding", "plots", "datasets"]

def devices() -> list[dict]:
    """Devices workbench can run on: ``[{"name": "cpu"}, {"name": "cuda:0", ...}, ...]``.

    Without CuPy or a GPU this is just the CPU, and everything runs there unchanged.
    """
    return _import_module("workbench.cuda").devices()


_SUBMODULES = {"snn", "neural", "rsa", "decoding", "plots", "datasets", "networks", "cuda"}


def __getattr__(name: str):
    # Lazy sub-packages: ``import workbench`` stays cheap and the simulator does not
    # drag in Neo/xarray (and vice versa).
    if name in _SUBMODULES:
        return _import_module(f"workbench.{name}")
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
