"""linear_probe: a ridge read-out of the spikes a layer receives."""

import numpy as np
import pytest

from workbench import networks as nw


def _net():
    return nw.Network(
        nw.Frontend("none"),
        [nw.ConvLayer(2, 5, 3, threshold=1.5, padding=1, seed=0), nw.PoolLayer(2, 2),
         nw.DecisionLayer(5, 4, 3, n_classes=2, padding=1, seed=1)],
        T=7,
    )


def _reference(net, layer, x, y, xt, alpha, fired=False):
    # Ridge as least squares on the stacked system [X; sqrt(alpha) I] (penalised bias column).
    def code(images):
        t = net.layer_input(images, layer).reshape(len(images), -1).astype(float)
        value = 1.0 if fired else (net.T - t) / net.T
        return np.hstack([np.where(t < net.T, value, 0.0), np.ones((len(images), 1))])

    X, Xt = code(x), code(xt)
    classes = np.unique(y)
    Y = np.where(classes == y[:, None], 1.0, -1.0)
    A = np.vstack([X, np.sqrt(alpha) * np.eye(X.shape[1])])
    B = np.vstack([Y, np.zeros((X.shape[1], len(classes)))])
    W = np.linalg.lstsq(A, B, rcond=None)[0]
    return classes[np.argmax(X @ W, axis=1)], classes[np.argmax(Xt @ W, axis=1)]


@pytest.mark.parametrize("layer, alpha, n_train, code",
                         [(None, 1.0, 37, "latency"), (2, 0.01, 123, "latency"), (1, 5.0, 37, "latency"),
                          (None, 0.5, 123, "fired"), (1, 1.0, 37, "fired")])
def test_probe_matches_least_squares_reference(rng, layer, alpha, n_train, code):
    # 80 input units from 37 images (solved through the images' kernel) or from 123 (through
    # the normal equations); 320 units from 37 images.
    net = _net()
    x = rng.random((n_train, 2, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, n_train) * 2  # labels need not be 0..K-1
    xt = rng.random((11, 2, 8, 8)).astype(np.float32)
    yt = rng.integers(0, 3, 11) * 2
    probe = nw.linear_probe(net, x, y, xt, yt, layer=layer, alpha=alpha, code=code, chunk=5)  # several blocks
    pred, pred_t = _reference(net, 2 if layer is None else layer, x, y, xt, alpha, fired=code == "fired")
    assert probe["train_accuracy"] == pytest.approx(np.mean(pred == y))
    assert probe["test_accuracy"] == pytest.approx(np.mean(pred_t == yt))
    assert probe["n_features"] == (5 * 4 * 4 if layer in (None, 2) else 5 * 8 * 8)


def test_probe_reads_a_separable_code(rng):
    # Class 0 spikes only in channel 0, class 1 only in channel 1: a linear read-out is perfect.
    n = 40
    y = np.arange(n) % 2
    x = np.zeros((n, 2, 4, 4), np.float32)
    for c in (0, 1):
        x[y == c, c] = rng.random((np.sum(y == c), 4, 4)) + 0.1
    net = nw.Network(nw.Frontend("none"), [nw.DecisionLayer(2, 2, 3, n_classes=2, padding=1)], T=5)
    probe = nw.linear_probe(net, x[:30], y[:30], x[30:], y[30:])
    assert probe == {"train_accuracy": 1.0, "test_accuracy": 1.0, "n_features": 32}


def test_probe_input_errors(rng):
    net = _net()
    x = rng.random((6, 2, 8, 8)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="6 images but train_labels has 5 labels"):
        nw.linear_probe(net, x, y[:5], x, y)
    with pytest.raises(ValueError, match="at least two classes"):
        nw.linear_probe(net, x, np.zeros(6, int), x, y)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        nw.linear_probe(net, x, y, x, y, alpha=0.0)
    with pytest.raises(ValueError, match="layer"):
        nw.linear_probe(net, x, y, x, y, layer=3)
    with pytest.raises(ValueError, match="code"):
        nw.linear_probe(net, x, y, x, y, code="rate")


def test_probe_refuses_a_system_too_large(rng, monkeypatch):
    from workbench.networks import _readout

    monkeypatch.setattr(_readout, "_PROBE_MAX_ELEMENTS", 100)
    x = rng.random((6, 2, 8, 8)).astype(np.float32)
    with pytest.raises(ValueError, match="too large"):
        nw.linear_probe(_net(), x, np.arange(6) % 2, x, np.arange(6) % 2)
