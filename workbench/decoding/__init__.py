"""Cross-validated decoding of conditions from population responses.

- :func:`decode` -- (time-resolved) cross-validated accuracy, simultaneous recordings or
  pseudo-populations resampled inside each split; cross-condition generalisation
  (``train=`` / ``test=`` trial selections, e.g. train at one position, test at another);
- :func:`temporal_generalization` -- train at one time, test at every time;
- :func:`confusion_matrix`, :func:`permutation_test` (label-shuffle null, FDR / cluster
  correction), :func:`onset_latency`;
- :class:`MaxCorrelationClassifier` (Meyers' toolbox) and :func:`make_classifier`;
- :func:`pseudo_splits` -- the split stream itself, for custom loops.

This package belongs to the analysis layer and never imports the simulator.
"""

from ._classifiers import *  # noqa: F401,F403
from ._classifiers import __all__ as _a_classifiers
from ._decode import *  # noqa: F401,F403
from ._decode import __all__ as _a_decode
from ._engine import *  # noqa: F401,F403
from ._engine import __all__ as _a_engine

__all__ = [*_a_classifiers, *_a_decode, *_a_engine]
