"""Tests of workbench.snn._filters against plain NumPy references and Spyker 0.1.0."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.snn import (
    MOZAFARI2018_INHIBITION,
    DoG,
    DoGFilter,
    Gabor,
    GaborFilter,
    LoG,
    ZCA,
    dog_filter,
    gabor_filter,
    gabor_kernel,
    gaussian_kernel,
    lateral_inhibition,
    local_normalize,
    log_filter,
    num_threads,
)

try:
    import spyker
except ImportError:  # pragma: no cover
    spyker = None

needs_spyker = pytest.mark.skipif(spyker is None, reason="spyker is not installed")
DTYPES = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- references
def ref_gauss(size, std):
    k = np.zeros((2 * size + 1, 2 * size + 1))
    for i in range(-size, size + 1):
        for j in range(-size, size + 1):
            k[i + size, j + size] = math.exp(-0.5 * (math.sqrt(i * i + j * j) / std) ** 2)
    return k / k.sum()


def ref_gabor(size, sigma, theta, gamma, lam, psi):
    k = np.zeros((2 * size + 1, 2 * size + 1))
    t = math.radians(theta)
    for i in range(-size, size + 1):
        for j in range(-size, size + 1):
            x = i * math.cos(t) + j * math.sin(t)
            y = -i * math.sin(t) + j * math.cos(t)
            k[i + size, j + size] = math.exp(-(x * x + gamma * gamma * y * y) / (2 * sigma * sigma)) * math.cos(
                2 * math.pi * x / lam + psi
            )
    return k / k.sum()


def ref_correlate(img, k):
    """Plain 'valid' 2-D correlation of one plane, float64."""
    kh, kw = k.shape
    H, W = img.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = float((img[i : i + kh, j : j + kw].astype(np.float64) * k).sum())
    return out


def ref_pad(x, top, left, bottom, right):
    B, C, H, W = x.shape
    out = np.zeros((B, C, H + top + bottom, W + left + right), dtype=np.float64)
    out[:, :, top : top + H, left : left + W] = x
    return out


def ref_dog(x, size, filters, pad4):
    xp = ref_pad(x, *pad4)
    outs = []
    for b in range(x.shape[0]):
        chans = []
        for c in range(x.shape[1]):
            for s1, s2 in filters:
                d = ref_correlate(xp[b, c], ref_gauss(size, s1)) - ref_correlate(xp[b, c], ref_gauss(size, s2))
                chans.append(np.maximum(d, 0))
        outs.append(chans)
    return np.array(outs)


def ref_log(x, size, stds, pad4):
    xp = ref_pad(x, *pad4)
    outs = []
    for b in range(x.shape[0]):
        chans = []
        for c in range(x.shape[1]):
            ds = [
                ref_correlate(xp[b, c], ref_gauss(size, s / math.sqrt(2)))
                - ref_correlate(xp[b, c], ref_gauss(size, s * math.sqrt(2)))
                for s in stds
            ]
            chans += [np.maximum(d, 0) for d in ds] + [np.maximum(-d, 0) for d in ds]
        outs.append(chans)
    return np.array(outs)


def ref_gabor_bank(x, size, filters, pad4):
    xp = ref_pad(x, *pad4)
    return np.array(
        [[ref_correlate(xp[b, c], ref_gabor(size, *f)) for c in range(x.shape[1]) for f in filters] for b in range(x.shape[0])]
    )


def ref_local_normalize(x, r, eps):
    B, C, H, W = x.shape
    out = np.zeros(x.shape)
    n = (2 * r + 1) ** 2
    for b in range(B):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    s = 0.0
                    for u in range(i - r, i + r + 1):
                        for v in range(j - r, j + r + 1):
                            if 0 <= u < H and 0 <= v < W:
                                s += float(x[b, c, u, v])
                    out[b, c, i, j] = x[b, c, i, j] / (s / n + eps)
    return out


def ref_lateral(x, coefs, mode):
    B, C, H, W = x.shape
    L = len(coefs)
    out = np.zeros(x.shape)
    for b in range(B):
        for c in range(C):
            for i in range(H):
                for j in range(W):
                    v = float(x[b, c, i, j])
                    acc = 0.0
                    for u in range(i - L, i + L + 1):
                        for w in range(j - L, j + L + 1):
                            d = max(abs(u - i), abs(w - j))
                            if d == 0:
                                continue
                            q = float(x[b, c, u, w]) if (0 <= u < H and 0 <= w < W) else 0.0
                            if mode == "spyketorch" and q < v:
                                acc += coefs[d - 1]
                            if mode == "suppress" and q > v:
                                acc += coefs[d - 1]
                    out[b, c, i, j] = v * (1 + acc) if mode == "spyketorch" else v * max(0.0, 1 - acc)
    return out


PADS = [(0, (0, 0, 0, 0)), (1, (1, 1, 1, 1)), ((2, 0), (2, 0, 2, 0)), ((1, 2, 0, 3), (1, 2, 0, 3))]


# ------------------------------------------------------------------------------- kernels
def test_kernels_match_reference():
    for size, std in [(0, 1.0), (2, 1.0), (3, 0.5), (5, 2.5)]:
        np.testing.assert_allclose(gaussian_kernel(size, std), ref_gauss(size, std), rtol=1e-12, atol=1e-15)
        assert gaussian_kernel(size, std).sum() == pytest.approx(1.0)
    for p in [(1.0, 30, 0.5, 2.0, 0.1), (2.0, 135, 0.7, 4.0, 0.0), (3.0, 0, 0.3, 5, 0)]:
        np.testing.assert_allclose(gabor_kernel(3, *p), ref_gabor(3, *p), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------ DoG / LoG
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad,pad4", PADS)
def test_dog_matches_reference(rng, dtype, pad, pad4):
    x = rng.random((2, 2, 8, 9)).astype(dtype)
    filters = [(1.0, 2.0), (0.7, 1.4), (2.0, 1.0)]
    got = DoG(2, filters, pad)(x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref_dog(x, 2, filters, pad4), **tol(dtype))
    np.testing.assert_allclose(dog_filter(x, 2, [DoGFilter(*f) for f in filters], pad), got)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad,pad4", PADS[:3])
def test_log_matches_reference(rng, dtype, pad, pad4):
    x = rng.random((2, 2, 7, 8)).astype(dtype)
    got = LoG(2, [1.0, 2.0], pad)(x)
    assert got.shape[1] == 2 * 2 * 2 and got.dtype == dtype
    np.testing.assert_allclose(got, ref_log(x, 2, [1.0, 2.0], pad4), **tol(dtype))
    np.testing.assert_allclose(log_filter(x, 2, [1.0, 2.0], pad), got)
    # on and off channels are never both positive
    S = 2
    assert not ((got[:, :S] > 0) & (got[:, S : 2 * S] > 0)).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad,pad4", PADS)
def test_gabor_matches_reference(rng, dtype, pad, pad4):
    x = rng.random((2, 2, 7, 9)).astype(dtype)
    filters = [(1.0, 30, 0.5, 2.0, 0.1), (2.0, 120, 0.7, 3.0, 0.0)]
    got = Gabor(2, filters, pad)(x)
    ref = ref_gabor_bank(x, 2, filters, pad4)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(got / scale, ref / scale, **tol(dtype))
    np.testing.assert_allclose(gabor_filter(x, 2, [GaborFilter(*f) for f in filters], pad), got)


def test_filter_edge_cases():
    # 1x1 image with size 0 kernels; batch of one; all-zero input stays exactly zero
    one = np.array([[[[2.0]]]], dtype=np.float32)
    assert DoG(0, [(1.0, 2.0)])(one).item() == 0.0  # both 1x1 Gaussians are 1
    np.testing.assert_allclose(Gabor(0, [(1.0, 0, 1, 2, 0)])(one), one)
    assert LoG(1, [1.0], pad=1)(one).shape == (1, 2, 1, 1)
    z = np.zeros((1, 1, 12, 12), np.float32)
    for f in (DoG(3, [(1, 2)]), LoG(3, [1.0]), Gabor(3, [(2, 45, 0.5, 4, 0)])):
        assert not f(z).any()
    # a zero background stays exactly zero beside a bright patch (no FFT round-off)
    img = np.zeros((1, 1, 30, 30), np.float32)
    img[0, 0, 2:6, 2:6] = 1
    out = DoG(2, [(1, 2)])(img)
    assert (out[0, 0, 12:, 12:] == 0).all()


def test_threads_do_not_change_filters(rng):
    x = rng.random((5, 2, 12, 13)).astype(np.float32)
    bank = [DoG(2, [(1, 2)]), LoG(2, [1.0]), Gabor(2, [(1, 45, 0.5, 3, 0)])]
    with num_threads(1):
        a = [f(x) for f in bank] + [lateral_inhibition(x), local_normalize(x, 2)]
    with num_threads(3):
        b = [f(x) for f in bank] + [lateral_inhibition(x), local_normalize(x, 2)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@needs_spyker
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", [0, 1, (1, 2), (1, 2, 3, 0)])
def test_dog_log_match_spyker(rng, dtype, pad):
    x = rng.random((2, 3, 9, 11)).astype(dtype)
    filters = [(1.0, 2.0), (0.5, 1.5), (2.0, 1.0)]
    ref = spyker.DoG(2, [spyker.DoGFilter(*f) for f in filters], pad=pad)(x)
    np.testing.assert_allclose(DoG(2, filters, pad)(x), ref, rtol=1e-4, atol=1e-5)
    ref = spyker.LoG(2, [1.0, 2.0], pad=pad)(x)
    np.testing.assert_allclose(LoG(2, [1.0, 2.0], pad)(x), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        DoG(2, filters).kernel, spyker.to_numpy(spyker.DoG(2, [spyker.DoGFilter(*f) for f in filters]).kernel), atol=1e-7
    )
    np.testing.assert_allclose(LoG(2, [1.0, 3.0]).kernel, spyker.to_numpy(spyker.LoG(2, [1.0, 3.0]).kernel), atol=1e-7)


@needs_spyker
@pytest.mark.parametrize("pad", [0, (1, 0), (0, 1, 2, 3)])
def test_gabor_matches_spyker(rng, pad):
    x = rng.random((2, 3, 9, 10)).astype(np.float32)
    filters = [(1.0, 30, 0.5, 2.0, 0.1), (2.0, 120, 0.7, 3.0, 0.0), (1.5, 0, 1.0, 4.0, 0.3)]
    sp = spyker.Gabor(2, [spyker.GaborFilter(*f) for f in filters], pad=pad)
    ref = sp(x)
    got = Gabor(2, filters, pad)(x)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(got / scale, ref / scale, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(Gabor(2, filters).kernel, spyker.to_numpy(sp.kernel), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------ ZCA
@pytest.mark.parametrize("dtype", DTYPES)
def test_zca_reference_and_roundtrip(rng, dtype, tmp_path):
    x = rng.random((40, 2, 3, 3)).astype(dtype)
    z = ZCA().fit(x, epsilon=1e-3)
    flat = x.reshape(40, -1).astype(np.float64)
    mu = flat.mean(0)
    cov = (flat - mu).T @ (flat - mu) / 39
    w, v = np.linalg.eigh(cov)
    mat = v @ np.diag(1 / np.sqrt(w + 1e-3)) @ v.T
    np.testing.assert_allclose(z.mean, mu, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z.matrix, mat, rtol=1e-8, atol=1e-8)
    y = z(x)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y.reshape(40, -1), ((flat - mu) @ mat).astype(dtype), **tol(dtype))
    # whitened data has (nearly) identity covariance when epsilon is small
    zc = ZCA().fit(x, epsilon=1e-9)
    yc = zc(x).reshape(40, -1).astype(np.float64)
    np.testing.assert_allclose(np.cov(yc, rowvar=False), np.eye(18), atol=1e-3)
    # save / load
    z.save(tmp_path / "zca.npz")
    z2 = ZCA().load(tmp_path / "zca.npz")
    np.testing.assert_array_equal(z2(x), y)
    # transform=True whitens in place
    xc = x.copy()
    ZCA().fit(xc, epsilon=1e-3, transform=True)
    np.testing.assert_allclose(xc, y, **tol(dtype))
    # split: positive channels then negative channels
    s = ZCA.split(y)
    assert s.shape == (40, 4, 3, 3)
    np.testing.assert_array_equal(s[:, :2] - s[:, 2:], y)
    assert (s >= 0).all()


@needs_spyker
def test_zca_matches_spyker(rng, tmp_path):
    x = rng.random((60, 2, 3, 3)).astype(np.float32)
    ours = ZCA().fit(x, 1e-2)
    theirs = spyker.ZCA()
    theirs.fit(x.copy(), 1e-2)
    np.testing.assert_allclose(ours.matrix, spyker.to_numpy(theirs.transform), atol=1e-4)
    np.testing.assert_allclose(ours(x), theirs(x.copy()), atol=1e-4)
    y = ours(x)
    np.testing.assert_array_equal(ZCA.split(y), spyker.ZCA.split(y).reshape(60, 4, 3, 3))
    # Spyker's saved model loads here
    theirs.save(str(tmp_path / "s.npz"))
    np.testing.assert_allclose(ZCA().load(tmp_path / "s.npz")(x), theirs(x.copy()), atol=1e-5)


# ------------------------------------------------------------------ local normalisation
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("radius", [0, 1, 3])
def test_local_normalize_reference(rng, dtype, radius):
    x = (rng.random((2, 2, 6, 7)) + 0.1).astype(dtype)
    got = local_normalize(x, radius, eps=1e-6)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref_local_normalize(x, radius, 1e-6), **tol(dtype))
    # radius 0: x / (x + eps)
    one = np.array([[[[4.0]]]], dtype=dtype)
    np.testing.assert_allclose(local_normalize(one, 0, eps=0.0), [[[[1.0]]]])
    np.testing.assert_allclose(local_normalize(one, 2, eps=0.0), [[[[25.0]]]])  # mean over 25 cells


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, (1, 2, 5, 6), elements=st.floats(0.01, 10)), st.floats(0.1, 100))
def test_local_normalize_scale_invariant(x, scale):
    np.testing.assert_allclose(local_normalize(x * scale, 2, eps=0.0), local_normalize(x, 2, eps=0.0), rtol=1e-9)


# --------------------------------------------------------------------- lateral inhibition
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["spyketorch", "suppress"])
def test_lateral_inhibition_reference(rng, dtype, mode):
    x = rng.random((2, 2, 7, 8)).astype(dtype)
    x[0, 0, 1, :3] = 0.5  # ties
    got = lateral_inhibition(x, mode=mode)
    np.testing.assert_allclose(got, ref_lateral(x, MOZAFARI2018_INHIBITION, mode), **tol(dtype))
    coefs = (0.3, 0.1)
    np.testing.assert_allclose(lateral_inhibition(x, coefs, mode), ref_lateral(x, coefs, mode), **tol(dtype))


def test_lateral_inhibition_edge_cases():
    one = np.array([[[[2.0]]]])
    # a single positive pixel: every neighbour (padding) is smaller -> 1 + sum over the window
    total = sum(8 * d * k for d, k in enumerate(MOZAFARI2018_INHIBITION, start=1))
    assert lateral_inhibition(one).item() == pytest.approx(2.0 * (1 + total))
    assert lateral_inhibition(one, mode="suppress").item() == 2.0
    assert not lateral_inhibition(np.zeros((1, 1, 4, 4), np.float32)).any()
    flat = np.full((1, 1, 3, 3), 2.0)
    # equal neighbours neither inhibit nor count
    assert (lateral_inhibition(flat, mode="suppress") == 2.0).all()


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, (1, 1, 5, 5), elements=st.floats(0, 5)))
def test_lateral_inhibition_properties(x):
    sup = lateral_inhibition(x, mode="suppress")
    enh = lateral_inhibition(x)
    assert (sup <= x + 1e-12).all() and (sup >= 0).all()  # suppression never increases
    assert (enh >= x - 1e-12).all()  # SpykeTorch's rule never decreases non-negative values
    # the global maximum is never suppressed
    i = np.unravel_index(np.argmax(x), x.shape)
    assert sup[i] == x[i]


# ------------------------------------------------------------------------------ bad input
def test_bad_inputs(rng):
    x = rng.random((1, 1, 6, 6)).astype(np.float32)
    bank = DoG(1, [(1, 2)])
    with pytest.raises(ValueError, match="images"):
        bank(x[0])
    with pytest.raises(TypeError, match="images"):
        bank(np.ones((1, 1, 6, 6), np.int32))
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    for f in (bank, LoG(1, [1.0]), Gabor(1, [(1, 0, 1, 2, 0)]), lambda a: local_normalize(a, 1), lateral_inhibition):
        with pytest.raises(ValueError, match="images"):
            f(bad)
    with pytest.raises(ValueError, match="smaller than"):
        DoG(4, [(1, 2)])(x)
    with pytest.raises(ValueError, match="std1"):
        DoG(1, [(0.0, 2)])
    with pytest.raises(TypeError, match="filters"):
        DoG(1, "abc")
    with pytest.raises(ValueError, match="size"):
        DoG(-1, [(1, 2)])
    with pytest.raises(ValueError, match="pad"):
        DoG(1, [(1, 2)], pad=-1)
    with pytest.raises(TypeError, match="pad"):
        DoG(1, [(1, 2)], pad=(1, 2, 3))
    with pytest.raises(ValueError, match="sigma"):
        Gabor(1, [(0.0, 0, 1, 2, 0)])
    with pytest.raises(ValueError, match="lambda_"):
        Gabor(1, [(1.0, 0, 1, 0.0, 0)])
    with pytest.raises(ValueError, match="stds"):
        LoG(1, [-1.0])
    with pytest.raises(ValueError, match="radius"):
        local_normalize(x, -1)
    with pytest.raises(ValueError, match="eps"):
        local_normalize(x, 1, eps=-1.0)
    with pytest.raises(ValueError, match="mode"):
        lateral_inhibition(x, mode="other")
    with pytest.raises(TypeError, match="coefficients"):
        lateral_inhibition(x, coefficients=[])
    with pytest.raises(ValueError, match="not fitted"):
        ZCA().transform(x)
    with pytest.raises(ValueError, match="at least 2"):
        ZCA().fit(x)
    with pytest.raises(ValueError, match="epsilon"):
        ZCA().fit(np.ones((3, 4)), epsilon=-1.0)
    with pytest.raises(ValueError, match="singular"):
        ZCA().fit(np.ones((3, 4)), epsilon=0.0)
    z = ZCA().fit(rng.random((5, 4)), 1e-2)
    with pytest.raises(ValueError, match="values per sample"):
        z.transform(rng.random((2, 5)))
