"""Compiled Cython kernels (built from ``core_cython/*.pyx``).

Kernels hold only inner loops; they trust their callers.  All validation happens in
the Python modules of :mod:`workbench.snn`, which are the only importers of this package.
"""
