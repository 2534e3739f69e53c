"""Classifiers for population decoding: the maximum-correlation-coefficient classifier and defaults.

The maximum-correlation-coefficient (MCC) classifier is the default classifier of Meyers'
Neural Decoding Toolbox (Meyers 2013, Front. Neuroinform. 7:8): training computes one
template per class, the mean training pattern of that class; a test pattern is assigned to
the class whose template has the largest Pearson correlation with it (correlation taken
across features, i.e. across units).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_choice

__all__ = ["MaxCorrelationClassifier", "make_classifier", "CLASSIFIERS"]

CLASSIFIERS = ("mcc", "lda", "svm", "logistic")


def _center_normalize(x: np.ndarray) -> np.ndarray:
    """Rows centred and scaled to unit Euclidean norm; a constant row becomes all zeros.

    A constant pattern has no defined correlation with anything; mapping it to zeros makes
    its correlation 0 with every template (so it never wins over a positive correlation).
    """
    centred = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    out = np.zeros_like(centred)
    ok = norm > 0
    out[ok] = centred[ok] / norm[ok, None]
    return out


class MaxCorrelationClassifier(ClassifierMixin, BaseEstimator):
    """Maximum-correlation-coefficient classifier (Meyers' Neural Decoding Toolbox).

    ``fit`` stores one template per class, the mean of that class's training rows.
    ``decision_function`` returns the Pearson correlation (across features) between each
    test row and each template; ``predict`` returns the class of the largest correlation
    (ties go to the first class in ``classes_`` order, as :func:`numpy.argmax` does).
    A row or template that is constant across features has correlation 0 by definition.

    Attributes
    ----------
    classes_ : np.ndarray, shape (n_classes,)
    templates_ : np.ndarray of float64, shape (n_classes, n_features)
    n_features_in_ : int
    """

    def fit(self, X, y):
        """Compute the class templates.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError("y must contain at least 2 classes, got 1 class")
        counts = np.bincount(codes, minlength=self.classes_.size).astype(np.float64)
        sums = np.zeros((self.classes_.size, X.shape[1]), dtype=np.float64)
        np.add.at(sums, codes, X)
        self.templates_ = sums / counts[:, None]
        return self

    def _correlations(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return _center_normalize(X) @ _center_normalize(self.templates_).T

    def correlations(self, X) -> np.ndarray:
        """Pearson correlation of each row of ``X`` with each class template.

        Returns
        -------
        np.ndarray of float64, shape (n_samples, n_classes)
        """
        return self._correlations(X)

    def decision_function(self, X) -> np.ndarray:
        """Scores in scikit-learn's convention.

        Returns
        -------
        np.ndarray of float64
            shape (n_samples, n_classes): the correlations; for two classes, shape
            (n_samples,): correlation with ``classes_[1]`` minus correlation with
            ``classes_[0]`` (positive means ``classes_[1]``).
        """
        r = self._correlations(X)
        return r[:, 1] - r[:, 0] if r.shape[1] == 2 else r

    def predict(self, X) -> np.ndarray:
        """Class with the largest correlation, shape (n_samples,)."""
        r = self._correlations(X)  # first: raises NotFittedError before classes_ is touched
        return self.classes_[np.argmax(r, axis=1)]


def make_classifier(classifier="mcc", *, zscore: bool = True):
    """A fresh (unfitted) classifier, optionally preceded by z-scoring.

    Parameters
    ----------
    classifier : {"mcc", "lda", "svm", "logistic"} or scikit-learn classifier
        ``"mcc"``: :class:`MaxCorrelationClassifier`; ``"lda"``: shrinkage LDA
        (``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")``, Ledoit-Wolf
        shrinkage); ``"svm"``: linear SVM (``SVC(kernel="linear")``); ``"logistic"``:
        ``LogisticRegression(max_iter=1000)``.  An estimator object is cloned, so the
        caller's object is never fitted.
    zscore : bool
        Put a :class:`~sklearn.preprocessing.StandardScaler` in front (as a
        :class:`~sklearn.pipeline.Pipeline`, so that it is fitted on training data only).

    Returns
    -------
    sklearn estimator
    """
    if isinstance(classifier, str):
        check_choice(classifier, "classifier", CLASSIFIERS)
        if classifier == "mcc":
            est = MaxCorrelationClassifier()
        elif classifier == "lda":
            from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

            est = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        elif classifier == "svm":
            from sklearn.svm import SVC

            est = SVC(kernel="linear")
        else:
            from sklearn.linear_model import LogisticRegression

            est = LogisticRegression(max_iter=1000)
    elif hasattr(classifier, "fit") and hasattr(classifier, "predict") and hasattr(classifier, "get_params"):
        est = clone(classifier)
    else:
        raise TypeError(
            f"classifier must be one of {CLASSIFIERS} or a scikit-learn classifier, got {type(classifier).__name__}"
        )
    if not isinstance(zscore, bool):
        raise TypeError(f"zscore must be a bool, got {type(zscore).__name__}")
    if zscore:
        return Pipeline([("zscore", StandardScaler()), ("classifier", est)])
    return est


def classifier_name(classifier) -> str:
    """Short name stored in result attrs."""
    if isinstance(classifier, str):
        return classifier
    return type(classifier).__name__
