"""Reproducible model-vs-brain pipelines, one module per comparison or paper figure.

``PIPELINES`` lists them in the order ``workbench reproduce`` runs them.  Each module has
``TITLE``, ``DATASETS`` and ``run(ctx) -> Result`` (see :mod:`analyses._common`).
These modules are the one place, with the CLI, that imports both the simulator
(``workbench.snn``, ``workbench.networks``) and the analysis layer.
"""

PIPELINES = ("snn_vs_it_92images", "it_decoding_over_time", "snn_learning")
