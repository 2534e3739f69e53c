"""Recordings in, population responses out: the analysis layer's entry point.

- :func:`load` / :func:`save`: any recording Neo reads (NWB through pynwb when Neo's
  reader fails; the Zhang-Desimone raster ``.mat`` format via :func:`read_raster`) into a
  :class:`neo.Block`, and NIX (lossless) / NWB (with :class:`NWBLossWarning`) out.
- :func:`align` (units recorded together) and :func:`align_units` (one array per unit
  when units have separate trials): labelled ``(trial, unit, time)`` counts or rates.
- :func:`pseudo_population` / :class:`PseudoPopulationSampler`: seeded pseudo-populations
  from units recorded separately.
- :func:`from_model_responses` / :func:`to_neo`: network responses as the same array
  (and as Neo); this package never imports the simulator.
- :func:`save_responses` / :func:`load_responses`: lossless netCDF storage.

Times at the Neo boundary are :mod:`quantities` values (or numbers with an explicit
``time_unit=``); every output time axis is in ms, bin centres.
"""

from ._align import align, align_units, to_ms
from ._io import WRITE_FORMATS, NWBLossWarning, load, save, supported_formats
from ._model import MODEL_KINDS, from_model_responses, to_neo
from ._nwb import read_nwb_with_pynwb
from ._pseudo import PseudoPopulationSampler, pseudo_population
from ._raster import read_raster
from ._store import load_responses, save_responses

__all__ = [
    "load",
    "save",
    "read_raster",
    "read_nwb_with_pynwb",
    "supported_formats",
    "WRITE_FORMATS",
    "NWBLossWarning",
    "align",
    "align_units",
    "to_ms",
    "pseudo_population",
    "PseudoPopulationSampler",
    "from_model_responses",
    "to_neo",
    "MODEL_KINDS",
    "save_responses",
    "load_responses",
]
