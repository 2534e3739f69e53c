"""Figures for the analysis layer: RDMs, MDS, model comparison, decoding time courses,
temporal generalisation, confusion matrices and spike rasters.

Matplotlib only through :class:`matplotlib.figure.Figure` (no pyplot state, Agg-safe);
Okabe-Ito colours; every function returns the Figure and :func:`save_figure` writes
PNG and PDF.  This package never imports the simulator.
"""

from ._figures import *  # noqa: F401,F403
from ._figures import __all__ as _a_figures

__all__ = [*_a_figures]
