"""Image front ends: DoG / LoG / Gabor filter banks, ZCA whitening, local normalisation and
lateral intensity inhibition.

The filter banks follow Spyker 0.1.0 (kernels, normalisation, channel order, padding);
the last two follow SpykeTorch's Mozafari-2018 front end.  All work on ``(B, C, H, W)``
float32/float64 images and return the input dtype.

Correlations are computed exactly (no FFT): an all-zero region of the input gives an
exactly-zero output, which matters because the rank coder treats "equal to the minimum"
(usually 0) as "never fires" -- FFT round-off would turn MNIST's black background into
spurious late spikes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .._kernels import filters as _k
from .._threads import get_num_threads
from .._validation import FLOAT_DTYPES, check_array, check_float, check_int
from ._dispatch import array_device

__all__ = [
    "DoGFilter",
    "GaborFilter",
    "DoG",
    "Gabor",
    "LoG",
    "dog_filter",
    "gabor_filter",
    "log_filter",
    "gaussian_kernel",
    "gabor_kernel",
    "ZCA",
    "local_normalize",
    "lateral_inhibition",
    "MOZAFARI2018_INHIBITION",
]

#: Lateral-inhibition coefficients of SpykeTorch's Mozafari-2018 example, by Chebyshev
#: distance 1..5 (``utils.LateralIntencityInhibition([0.15, 0.12, 0.1, 0.07, 0.05])``).
MOZAFARI2018_INHIBITION = (0.15, 0.12, 0.1, 0.07, 0.05)

# ------------------------------------------------------------------------------- params
@dataclass(frozen=True)
class DoGFilter:
    """Parameters of one difference-of-Gaussians filter (``std1`` centre, ``std2`` surround)."""

    std1: float
    std2: float


@dataclass(frozen=True)
class GaborFilter:
    """Parameters of one Gabor filter, as Spyker's ``GaborFilter``.

    Attributes
    ----------
    sigma : float
        Standard deviation of the Gaussian envelope (> 0).
    theta : float
        Orientation in DEGREES (Spyker 0.1.0 converts degrees to radians internally).
    gamma : float
        Spatial aspect ratio.
    lambda_ : float
        Wavelength of the carrier (!= 0).
    psi : float
        Phase offset in radians.
    """

    sigma: float
    theta: float
    gamma: float
    lambda_: float
    psi: float


def _as_dog(f, i: int) -> tuple[float, float]:
    if isinstance(f, Sequence) and len(f) == 2:
        s1, s2 = f
    elif hasattr(f, "std1") and hasattr(f, "std2"):
        s1, s2 = f.std1, f.std2
    else:
        raise TypeError(f"filters[{i}] must be a DoGFilter or a (std1, std2) pair, got {f!r}")
    return (
        check_float(s1, f"filters[{i}].std1", min_value=0.0, strict_min=True),
        check_float(s2, f"filters[{i}].std2", min_value=0.0, strict_min=True),
    )


def _as_gabor(f, i: int) -> tuple[float, float, float, float, float]:
    names = ("sigma", "theta", "gamma", "lambda_", "psi")
    if isinstance(f, Sequence) and len(f) == 5:
        vals = tuple(f)
    elif all(hasattr(f, n) for n in names):
        vals = tuple(getattr(f, n) for n in names)
    else:
        raise TypeError(f"filters[{i}] must be a GaborFilter or a 5-tuple, got {f!r}")
    vals = tuple(check_float(v, f"filters[{i}].{n}") for v, n in zip(vals, names))
    if vals[0] <= 0:
        raise ValueError(f"filters[{i}].sigma must be > 0, got {vals[0]}")
    if vals[3] == 0:
        raise ValueError(f"filters[{i}].lambda_ must be non-zero")
    return vals  # type: ignore[return-value]


def _filter_list(filters, name: str = "filters") -> list:
    if isinstance(filters, (DoGFilter, GaborFilter)) or hasattr(filters, "std1") or hasattr(filters, "sigma"):
        return [filters]
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or len(filters) == 0:
        raise TypeError(f"{name} must be a non-empty sequence of filter parameters")
    # a bare (std1, std2) pair of numbers is one filter, not two
    if all(isinstance(v, Real) and not isinstance(v, bool) for v in filters):
        return [tuple(filters)]
    return list(filters)


def _check_pad(pad) -> tuple[int, int, int, int]:
    """Spyker's ``expand4``: int, (y, x) or (top, left, bottom, right) -> 4 ints."""
    if isinstance(pad, Integral) and not isinstance(pad, bool):
        p = (int(pad),) * 4
    elif isinstance(pad, Sequence) and len(pad) in (1, 2, 4):
        vals = [check_int(v, "pad") for v in pad]
        p = tuple(vals * 4)[:4] if len(vals) == 1 else (tuple(vals + vals) if len(vals) == 2 else tuple(vals))
    else:
        raise TypeError(f"pad must be an int or a sequence of 1, 2 or 4 ints, got {pad!r}")
    if min(p) < 0:
        raise ValueError(f"pad must be >= 0, got {pad!r}")
    return p  # type: ignore[return-value]


def _check_images(images, name: str = "images") -> np.ndarray:
    return check_array(images, name, ndim=4, dtypes=FLOAT_DTYPES, finite=True, min_shape=(1, 1, 1, 1))


# ------------------------------------------------------------------------------ kernels
def gaussian_kernel(size: int, std: float) -> np.ndarray:
    """Normalised Gaussian ``(2*size+1, 2*size+1)`` float64 (sums to 1), as Spyker's.

    ``k[i, j] = exp(-(i^2 + j^2) / (2 std^2)) / sum`` for offsets ``i, j`` in
    ``[-size, size]``.
    """
    size = check_int(size, "size", min_value=0)
    std = check_float(std, "std", min_value=0.0, strict_min=True)
    g = _gauss1d(size, std)
    return np.outer(g, g)


def _gauss1d(size: int, std: float) -> np.ndarray:
    r = np.arange(-size, size + 1, dtype=np.float64)
    g = np.exp(-0.5 * (r / std) ** 2)
    return g / g.sum()


def gabor_kernel(size: int, sigma: float, theta: float, gamma: float, lambda_: float, psi: float) -> np.ndarray:
    """Gabor kernel ``(2*size+1, 2*size+1)`` float64, normalised to sum 1, as Spyker 0.1.0.

    With ``i`` the ROW offset and ``j`` the column offset, ``t = radians(theta)``:
    ``x = i cos t + j sin t``, ``y = -i sin t + j cos t``,
    ``k = exp(-(x^2 + gamma^2 y^2) / (2 sigma^2)) * cos(2 pi x / lambda_ + psi)``,
    then ``k / k.sum()``.

    Notes
    -----
    ``theta`` is in degrees (measured against spyker 0.1.0's kernels).  The sum
    normalisation is Spyker's; it is ill-conditioned when the raw kernel sums to about
    zero (e.g. ``psi = pi/2``), exactly as in Spyker.  A sum of exactly zero raises.
    """
    size = check_int(size, "size", min_value=0)
    sigma, theta, gamma, lambda_, psi = _as_gabor((sigma, theta, gamma, lambda_, psi), 0)
    r = np.arange(-size, size + 1, dtype=np.float64)
    i, j = np.meshgrid(r, r, indexing="ij")
    t = np.deg2rad(theta)
    x = i * np.cos(t) + j * np.sin(t)
    y = -i * np.sin(t) + j * np.cos(t)
    k = np.exp(-(x * x + gamma * gamma * y * y) / (2 * sigma * sigma)) * np.cos(2 * np.pi * x / lambda_ + psi)
    s = k.sum()
    if s == 0:
        raise ValueError("the Gabor kernel sums to zero and cannot be normalised")
    return k / s


# ------------------------------------------------------------------------- correlations
def _pad(images: np.ndarray, pad: tuple[int, int, int, int]) -> np.ndarray:
    top, left, bottom, right = pad
    if not any(pad):
        return images
    return np.pad(images, ((0, 0), (0, 0), (top, bottom), (left, right)))


def _valid_shape(x: np.ndarray, k: int, name: str = "images") -> tuple[int, int]:
    ho, wo = x.shape[2] - k + 1, x.shape[3] - k + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{name} (padded to {x.shape[2:]}) is smaller than the {k}x{k} kernel")
    return ho, wo


def _separable(x: np.ndarray, gs: Sequence[np.ndarray]) -> np.ndarray:
    """'valid' correlation of every (b, c) plane with each ``outer(g, g)``.

    (B, C, H, W) and S 1-D kernels of length k -> (B, C, S, H-k+1, W-k+1).
    """
    B, C, H, W = x.shape
    g = np.ascontiguousarray(np.stack(gs), dtype=x.dtype)
    ho, wo = _valid_shape(x, g.shape[1])
    out = np.empty((B * C, g.shape[0], ho, wo), dtype=x.dtype)
    _k.separable_valid(x.reshape(B * C, H, W), g, out, get_num_threads())
    return out.reshape(B, C, g.shape[0], ho, wo)


def _correlate_bank(x: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """'valid' correlation of every (b, c) plane with each kernel: -> (B, C, K, H', W')."""
    B, C, H, W = x.shape
    K, kh, kw = kernels.shape
    ho, wo = _valid_shape(x, kh)
    out = np.empty((B * C, K, ho, wo), dtype=x.dtype)
    _k.correlate_valid(x.reshape(B * C, H, W), np.ascontiguousarray(kernels, dtype=x.dtype), out, get_num_threads())
    return out.reshape(B, C, K, ho, wo)


# ------------------------------------------------------------------------ filter banks
class _Bank:
    size: int
    pad: tuple[int, int, int, int]

    # GPU path: the bank as 2-D correlation kernels and how their outputs are rectified.
    _gpu_mode = "none"

    def _gpu_kernels(self) -> np.ndarray:
        return self.kernel[0] - self.kernel[1]  # centre minus surround Gaussian

    def _prepare(self, images) -> np.ndarray:
        images = _check_images(images)
        x = _pad(images, self.pad)
        _valid_shape(x, 2 * self.size + 1)
        return x

    def _on_gpu(self, images) -> bool:
        return array_device(images) == "cuda"

    def _gpu(self, images):
        """Same filter on CuPy images through ``cuda/filters.cu`` (float rounding differs
        slightly from the CPU's separable float64 path)."""
        from ..cuda import filter_bank

        if images.ndim != 4 or images.dtype not in FLOAT_DTYPES:
            raise ValueError(f"images must be float32/float64 (B, C, H, W), got {images.dtype} {images.shape}")
        return filter_bank(self._gpu_kernels(), images, self.pad, self._gpu_mode)


class DoG(_Bank):
    """Difference-of-Gaussians filter bank (on-centre, rectified), as ``spyker.DoG``.

    Parameters
    ----------
    size : int
        Half window; kernels are ``(2*size+1, 2*size+1)``.
    filters : DoGFilter, (std1, std2) or a sequence of them
        ``F`` filters.
    pad : int, (y, x) or (top, left, bottom, right)
        Zero padding, as Spyker's ``expand4``.

    Attributes
    ----------
    kernel : ndarray, float64, shape (2, F, k, k)
        ``kernel[0, f]`` the ``std1`` Gaussian, ``kernel[1, f]`` the ``std2`` Gaussian of
        filter ``f`` (each sums to 1), laid out as ``spyker.DoG(...).kernel``.

    Notes
    -----
    ``out[b, c*F + f] = max(G(std1_f) * x[b, c] - G(std2_f) * x[b, c], 0)`` ('valid'
    correlation after padding): ``(B, C, H, W) -> (B, C*F, H + top + bottom - 2 size,
    W + left + right - 2 size)``.  Spyker's DoG yields only this rectified on-centre
    channel per filter; for an off-centre channel add a filter with swapped stds.
    Difference from Spyker: the output keeps the input dtype (Spyker always returns
    float32) and each Gaussian is applied separably (row pass then column pass, in the
    input precision), so values agree with Spyker to float rounding, not bit for bit.
    """

    def __init__(self, size: int, filters, pad=0) -> None:
        self.size = check_int(size, "size", min_value=0)
        self.filters = [DoGFilter(*_as_dog(f, i)) for i, f in enumerate(_filter_list(filters))]
        self.pad = _check_pad(pad)
        self._g = [(_gauss1d(self.size, f.std1), _gauss1d(self.size, f.std2)) for f in self.filters]
        self.kernel = np.stack(
            [np.stack([np.outer(g1, g1) for g1, _ in self._g]), np.stack([np.outer(g2, g2) for _, g2 in self._g])]
        )

    _gpu_mode = "on"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Filter ``images`` (B, C, H, W) -> (B, C*F, H', W'), see the class Notes."""
        if self._on_gpu(images):
            return self._gpu(images)
        x = self._prepare(images)
        F = len(self._g)
        both = _separable(x, [g1 for g1, _ in self._g] + [g2 for _, g2 in self._g])  # (B, C, 2F, H', W')
        out = np.maximum(both[:, :, :F] - both[:, :, F:], 0)
        return out.reshape(x.shape[0], -1, *out.shape[-2:])


class LoG(_Bank):
    """Laplacian-of-Gaussian bank with on- and off-centre channels, as ``spyker.LoG``.

    Parameters
    ----------
    size : int
        Half window; kernels are ``(2*size+1, 2*size+1)``.
    stds : float or sequence of float
        ``S`` scales.
    pad : int, (y, x) or (top, left, bottom, right)

    Attributes
    ----------
    kernel : ndarray, float64, shape (2, S, k, k)
        ``kernel[0, s] = G(std_s / sqrt 2)``, ``kernel[1, s] = G(std_s * sqrt 2)``.

    Notes
    -----
    Like Spyker, the LoG is approximated by a difference of Gaussians with stds
    ``std/sqrt(2)`` and ``std*sqrt(2)``: ``d = G1 * x - G2 * x``, on = ``max(d, 0)``,
    off = ``max(-d, 0)``.  Channel order (Spyker's): for each input channel ``c``,
    ``[on_0 .. on_{S-1}, off_0 .. off_{S-1}]`` -> ``(B, C*2S, H', W')``.
    Output keeps the input dtype (Spyker: always float32).
    """

    def __init__(self, size: int, stds, pad=0) -> None:
        self.size = check_int(size, "size", min_value=0)
        if isinstance(stds, Real) and not isinstance(stds, bool):
            stds = [stds]
        if isinstance(stds, (str, bytes)) or not isinstance(stds, Sequence) or len(stds) == 0:
            raise TypeError("stds must be a float or a non-empty sequence of floats")
        self.stds = [check_float(s, f"stds[{i}]", min_value=0.0, strict_min=True) for i, s in enumerate(stds)]
        self.pad = _check_pad(pad)
        self._g = [(_gauss1d(self.size, s / np.sqrt(2)), _gauss1d(self.size, s * np.sqrt(2))) for s in self.stds]
        self.kernel = np.stack(
            [np.stack([np.outer(g1, g1) for g1, _ in self._g]), np.stack([np.outer(g2, g2) for _, g2 in self._g])]
        )

    _gpu_mode = "onoff"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Filter ``images`` (B, C, H, W) -> (B, C*2S, H', W'), see the class Notes."""
        if self._on_gpu(images):
            return self._gpu(images)
        x = self._prepare(images)
        S = len(self._g)
        both = _separable(x, [g1 for g1, _ in self._g] + [g2 for _, g2 in self._g])  # (B, C, 2S, H', W')
        d = both[:, :, :S] - both[:, :, S:]
        out = np.concatenate([np.maximum(d, 0), np.maximum(-d, 0)], axis=2)
        return out.reshape(x.shape[0], -1, *out.shape[-2:])


class Gabor(_Bank):
    """Gabor filter bank, as ``spyker.Gabor`` (plain correlation, not rectified).

    Parameters
    ----------
    size : int
        Half window; kernels are ``(2*size+1, 2*size+1)``.
    filters : GaborFilter, 5-tuple or a sequence of them
        ``F`` filters (``theta`` in degrees, see :func:`gabor_kernel`).
    pad : int, (y, x) or (top, left, bottom, right)

    Attributes
    ----------
    kernel : ndarray, float64, shape (F, k, k)

    Notes
    -----
    ``out[b, c*F + f] = K_f * x[b, c]`` ('valid' correlation after padding) ->
    ``(B, C*F, H', W')``.  Output keeps the input dtype (Spyker: always float32).
    """

    def __init__(self, size: int, filters, pad=0) -> None:
        self.size = check_int(size, "size", min_value=0)
        self.filters = [GaborFilter(*_as_gabor(f, i)) for i, f in enumerate(_filter_list(filters))]
        self.pad = _check_pad(pad)
        self.kernel = np.stack(
            [gabor_kernel(self.size, f.sigma, f.theta, f.gamma, f.lambda_, f.psi) for f in self.filters]
        )

    def _gpu_kernels(self) -> np.ndarray:
        return self.kernel

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Filter ``images`` (B, C, H, W) -> (B, C*F, H', W'), see the class Notes."""
        if self._on_gpu(images):
            return self._gpu(images)
        x = self._prepare(images)
        out = _correlate_bank(x, self.kernel)
        return out.reshape(x.shape[0], -1, *out.shape[-2:])


def dog_filter(images: np.ndarray, size: int, filters, pad=0) -> np.ndarray:
    """Functional form of :class:`DoG`: ``DoG(size, filters, pad)(images)``."""
    return DoG(size, filters, pad)(images)


def log_filter(images: np.ndarray, size: int, stds, pad=0) -> np.ndarray:
    """Functional form of :class:`LoG`: ``LoG(size, stds, pad)(images)``."""
    return LoG(size, stds, pad)(images)


def gabor_filter(images: np.ndarray, size: int, filters, pad=0) -> np.ndarray:
    """Functional form of :class:`Gabor`: ``Gabor(size, filters, pad)(images)``."""
    return Gabor(size, filters, pad)(images)


# ------------------------------------------------------------------------------------ ZCA
class ZCA:
    """ZCA whitening over all values after the first axis, as ``spyker.ZCA``.

    Attributes
    ----------
    mean : ndarray, float64, shape (D,)
        Feature means, ``D = prod(shape[1:])`` of the fitted data.
    transform : ndarray, float64, shape (D, D)
        Symmetric whitening matrix ``V diag(1 / sqrt(max(l, 0) + epsilon)) V^T`` of the
        covariance (normalised by ``n - 1``) with eigenpairs ``(l, V)``.

    Notes
    -----
    ``transform(x) = (x - mean) @ transform`` per sample.  Differences from Spyker:
    :meth:`transform` / ``__call__`` return a new array (Spyker works in place unless
    ``inplace=False``); :meth:`split` returns ``(B, 2C, H, W)`` (positive channels then
    negative channels), which is Spyker's ``(B, 2, C, H, W)`` with the two leading
    non-batch axes merged; fitting is done in float64 whatever the input dtype.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.transform_: np.ndarray | None = None

    # Spyker exposes the matrix as ``transform``; a method of that name is also needed, so
    # the matrix lives in ``transform_`` and ``matrix`` is a readable alias.
    @property
    def matrix(self) -> np.ndarray | None:
        """The whitening matrix ``(D, D)`` (``None`` before :meth:`fit`)."""
        return self.transform_

    def fit(self, images: np.ndarray, epsilon: float = 1e-2, transform: bool = False) -> "ZCA":
        """Learn mean and whitening matrix from ``images`` (N, ...) with N >= 2.

        Parameters
        ----------
        images : ndarray, float32 or float64, shape (N, ...)
        epsilon : float
            Added to the eigenvalues (>= 0).
        transform : bool
            Also whiten ``images`` in place (as Spyker's ``fit(..., transform=True)``);
            ``images`` must then be C-contiguous.

        Returns
        -------
        ZCA
            ``self``.
        """
        x = check_array(images, "images", ndim=range(2, 8), dtypes=FLOAT_DTYPES, finite=True, contiguous=False)
        if x.shape[0] < 2:
            raise ValueError(f"images needs at least 2 samples to fit, got shape {x.shape}")
        epsilon = check_float(epsilon, "epsilon", min_value=0.0)
        flat = x.reshape(x.shape[0], -1).astype(np.float64)
        mean = flat.mean(axis=0)
        centred = flat - mean
        cov = centred.T @ centred / (flat.shape[0] - 1)
        vals, vecs = np.linalg.eigh(cov)
        inv = 1.0 / np.sqrt(np.maximum(vals, 0.0) + epsilon) if epsilon > 0 else None
        if inv is None:
            with np.errstate(divide="raise"):
                try:
                    inv = 1.0 / np.sqrt(np.maximum(vals, 0.0))
                except FloatingPointError:
                    raise ValueError("covariance is singular: use epsilon > 0") from None
        self.mean = mean
        self.transform_ = (vecs * inv) @ vecs.T
        if transform:
            if not images.flags.c_contiguous or not images.flags.writeable:
                raise ValueError("images must be C-contiguous and writeable for transform=True")
            images[...] = self(images)
        return self

    def _check_fitted(self) -> None:
        if self.mean is None or self.transform_ is None:
            raise ValueError("ZCA is not fitted: call fit() or load() first")

    def to(self, device: str) -> "ZCA":
        """Move the fitted mean and matrix to ``"cpu"`` or ``"cuda"``; returns self.

        On the GPU, :meth:`transform` takes CuPy images (fit stays on the CPU).
        """
        from ..cuda import to_device

        self._check_fitted()
        self.mean, self.transform_ = to_device(self.mean, device), to_device(self.transform_, device)
        return self

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Whitened copy of ``images`` (N, ...) in the input dtype."""
        self._check_fitted()
        if array_device(images) == "cuda":
            if array_device(self.mean) != "cuda":
                raise TypeError("images are CuPy arrays but the ZCA lives on the CPU: call .to('cuda') first")
            flat = images.reshape(images.shape[0], -1).astype("float64")
            return ((flat - self.mean) @ self.transform_).astype(images.dtype).reshape(images.shape)
        x = check_array(images, "images", ndim=range(1, 8), dtypes=FLOAT_DTYPES, finite=True)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.mean.size:  # type: ignore[union-attr]
            raise ValueError(f"images must be (N, ...) with {self.mean.size} values per sample, got {x.shape}")  # type: ignore[union-attr]
        flat = x.reshape(x.shape[0], -1).astype(np.float64)
        return ((flat - self.mean) @ self.transform_).astype(x.dtype).reshape(x.shape)

    __call__ = transform

    @staticmethod
    def split(images: np.ndarray) -> np.ndarray:
        """Rectified positive and negative parts as channels: (B, C, ...) -> (B, 2C, ...).

        ``out[:, :C] = max(x, 0)``, ``out[:, C:] = max(-x, 0)``.
        """
        x = check_array(images, "images", ndim=range(2, 8), dtypes=FLOAT_DTYPES, finite=True)
        return np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=1)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``mean`` and ``transform`` to a NumPy ``.npz`` archive (Spyker's keys)."""
        self._check_fitted()
        np.savez(path, mean=self.mean, transform=self.transform_)

    def load(self, path: str | os.PathLike) -> "ZCA":
        """Read an archive written by :meth:`save` (or by ``spyker.ZCA.save``); returns ``self``."""
        with np.load(path) as data:
            if "mean" not in data or "transform" not in data:
                raise ValueError(f"{path} has no 'mean' and 'transform' arrays")
            mean = np.asarray(data["mean"], dtype=np.float64).ravel()
            mat = np.asarray(data["transform"], dtype=np.float64)
        if mat.shape != (mean.size, mean.size):
            raise ValueError(f"{path}: transform shape {mat.shape} does not match mean size {mean.size}")
        self.mean, self.transform_ = mean, mat
        return self


# ------------------------------------------------------------------ normalisation/inhibition
def local_normalize(images: np.ndarray, radius: int, eps: float = 1e-12) -> np.ndarray:
    """Divide each value by the mean of its ``(2r+1) x (2r+1)`` neighbourhood (per channel).

    Parameters
    ----------
    images : ndarray, float32 or float64, shape (B, C, H, W)
    radius : int
        Window radius ``r >= 0``.
    eps : float
        Added to the local mean (>= 0), as SpykeTorch's default ``1e-12``.

    Returns
    -------
    ndarray, shape (B, C, H, W), input dtype
        ``x / (box_mean(x) + eps)``.

    Notes
    -----
    As SpykeTorch's ``functional.local_normalization``: the box mean is a zero-padded
    'same' average, always divided by the full window size ``(2r+1)^2`` (positions
    outside the image count as zeros).  A window whose mean plus ``eps`` is zero gives
    NaN/inf, exactly as the formula does; use non-negative intensities and ``eps > 0``.
    """
    x = _check_images(images)
    radius = check_int(radius, "radius", min_value=0)
    eps = check_float(eps, "eps", min_value=0.0)
    n = 2 * radius + 1
    xp = np.pad(x, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
    mean = _separable(xp, [np.full(n, 1.0 / n)])[:, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x / (mean + x.dtype.type(eps))).astype(x.dtype)


def _inhibition_kernel(coefficients) -> np.ndarray:
    if isinstance(coefficients, (str, bytes)) or not isinstance(coefficients, Sequence) or len(coefficients) == 0:
        raise TypeError("coefficients must be a non-empty sequence of floats")
    coef = [check_float(c, f"coefficients[{i}]") for i, c in enumerate(coefficients)]
    L = len(coef)
    r = np.arange(-L, L + 1)
    d = np.maximum(np.abs(r)[:, None], np.abs(r)[None, :])
    kern = np.zeros((2 * L + 1, 2 * L + 1))
    kern[d > 0] = np.asarray(coef)[d[d > 0] - 1]
    return kern


def lateral_inhibition(
    images: np.ndarray,
    coefficients: Sequence[float] = MOZAFARI2018_INHIBITION,
    mode: str = "spyketorch",
) -> np.ndarray:
    """Lateral intensity inhibition of SpykeTorch's Mozafari-2018 front end.

    Parameters
    ----------
    images : ndarray, float32 or float64, shape (B, C, H, W)
        Intensities (e.g. filter outputs); each channel is processed on its own.
    coefficients : sequence of float
        ``k_d`` for Chebyshev distance ``d = 1..L``; the window is ``(2L+1) x (2L+1)``
        (11x11 for the published five coefficients ``0.15, 0.12, 0.1, 0.07, 0.05``).
    mode : {"spyketorch", "suppress"}
        ``"spyketorch"``: the formula SpykeTorch computes,
        ``out_p = x_p * (1 + sum_{q != p, x_q < x_p} k_{d(p,q)})``.
        ``"suppress"``: the rule its docstring describes (each location inhibits the
        lower-valued neighbours), ``out_p = x_p * max(0, 1 - sum_{q, x_q > x_p} k_{d(p,q)})``.

    Returns
    -------
    ndarray, shape (B, C, H, W), input dtype

    Notes
    -----
    Source: SpykeTorch ``utils.LateralIntencityInhibition`` / ``functional.
    intensity_lateral_inhibition`` (Mozafari et al. 2019, Front. Neurosci. 13:625),
    used with ``[0.15, 0.12, 0.1, 0.07, 0.05]`` in its Mozafari et al. 2018 (IEEE TNNLS)
    reproduction.  SpykeTorch compares each centre with its zero-padded neighbourhood
    and computes ``x + x * conv(sign(clamp(centre - neighbour, min=0)), kernel)``: the
    comparison counts SMALLER neighbours and the result grows with them -- a contrast
    enhancement of local maxima, not the suppression its docstring states.  Both rules
    are provided; the default reproduces SpykeTorch's numbers.  Positions outside the
    image count as neighbours of value 0 in both modes (SpykeTorch pads with zeros).
    """
    x = _check_images(images)
    mode = mode if mode in ("spyketorch", "suppress") else _bad_mode(mode)
    kern = _inhibition_kernel(coefficients)
    L = kern.shape[0] // 2
    B, C, H, W = x.shape
    xp = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (L, L), (L, L))).reshape(B * C, H + 2 * L, W + 2 * L))
    out = np.empty((B * C, H, W), dtype=x.dtype)
    _k.lateral(xp, kern, out, mode == "suppress", get_num_threads())
    return out.reshape(x.shape)


def _bad_mode(mode) -> str:
    raise ValueError(f"mode must be one of 'spyketorch', 'suppress', got {mode!r}")
