"""Spiking networks built from :mod:`workbench.snn`: a composable API and the published models.

- :class:`Network`, :class:`Frontend` and the layer blocks (:class:`ConvLayer`,
  :class:`PoolLayer`, :class:`GlobalPool`, :class:`DecisionLayer`) compose a rank-order-coded
  network that trains layer by layer with STDP / R-STDP.
- :mod:`._published` defines Kheradpisheh et al. (2018) and Mozafari et al. (2018, 2019).

This package is part of the simulator: it never imports the analysis layer.
"""

from ._layers import ConvLayer, DecisionLayer, GlobalPool, Layer, PoolLayer
from ._network import Frontend, Network, TrainingLog
from ._published import RECIPES, Recipe, build
from ._readout import SVMReadout, global_max_potentials, layer_representations, linear_probe

__all__ = [
    "RECIPES",
    "Recipe",
    "build",
    "ConvLayer",
    "DecisionLayer",
    "Frontend",
    "GlobalPool",
    "Layer",
    "Network",
    "PoolLayer",
    "SVMReadout",
    "TrainingLog",
    "global_max_potentials",
    "layer_representations",
    "linear_probe",
]
