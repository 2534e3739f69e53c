"""Statistics helpers shared by the analysis layer (RSA, decoding).

- :func:`fdr_correction` -- Benjamini-Hochberg / Benjamini-Yekutieli q-values.
- :func:`permutation_pvalue` -- ``(count + 1) / (n + 1)`` p-values against a null.
- :func:`cluster_permutation` -- cluster-mass test over time or time x time maps.
- :func:`bootstrap_ci` -- percentile / normal bootstrap intervals.
"""

from ._bootstrap import bootstrap_ci
from ._multiple import fdr_correction
from ._permutation import cluster_permutation, permutation_pvalue

__all__ = ["bootstrap_ci", "cluster_permutation", "fdr_correction", "permutation_pvalue"]
