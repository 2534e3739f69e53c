"""Representational similarity analysis (RSA) on labelled responses.

- :func:`rdm` -- RDMs (correlation, euclidean, cosine, Mahalanobis, crossnobis,
  cross-validated euclidean, Poisson KL) per time bin, as labelled DataArrays;
  :func:`noise_precision` -- shrinkage noise precision; :func:`upper_tri` /
  :func:`to_matrix` -- condensed <-> square forms.
- :func:`compare` -- many-vs-many RDM comparison (pearson, spearman, kendall_tau_a,
  kendall_tau_b, rho_a, cosine, corr_cov, cosine_cov; rsatoolbox's names accepted too).
- :func:`evaluate` -- bootstrap model evaluation (over subjects, conditions, both, or the
  dual bootstrap with corrected variance) with noise ceiling and pairwise tests;
  :func:`dual_bootstrap_variances`; :func:`noise_ceiling`; :func:`permutation_test`;
  :func:`rsa_over_time`; :func:`split_half_reliability`.

Definitions match rsatoolbox 0.3.2 (see each function).  This layer never imports the
simulator.
"""

from ._compare import COMPARE_METHODS, compare
from ._inference import (
    dual_bootstrap_variances,
    evaluate,
    noise_ceiling,
    permutation_test,
    rsa_over_time,
)
from ._rdm import RDM_METHODS, noise_precision, rdm, to_matrix, upper_tri
from ._reliability import spearman_brown, split_half_reliability

__all__ = [
    "COMPARE_METHODS",
    "RDM_METHODS",
    "compare",
    "dual_bootstrap_variances",
    "evaluate",
    "noise_ceiling",
    "noise_precision",
    "permutation_test",
    "rdm",
    "rsa_over_time",
    "spearman_brown",
    "split_half_reliability",
    "to_matrix",
    "upper_tri",
]
