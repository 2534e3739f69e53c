"""The composable network API: training changes weights, checkpoints round-trip and resume."""

import numpy as np
import pytest

from workbench import networks as nw


def _tiny_net(seed=0):
    return nw.Network(
        nw.Frontend("none"),
        [
            nw.ConvLayer(2, 6, 3, threshold=2.0, padding=1, wta_count=2, wta_radius=1, seed=seed),
            nw.PoolLayer(2, 2),
            nw.ConvLayer(6, 4, 3, threshold=1.0, padding=1, wta_count=1, wta_radius=0, seed=seed + 1),
            nw.GlobalPool(),
        ],
        T=8,
        name="tiny",
    )


@pytest.fixture
def images(rng):
    return rng.random((24, 2, 10, 10)).astype(np.float32)


def test_transform_shapes_and_range(images):
    net = _tiny_net()
    outs = net.transform(images, batch_size=7)
    assert [o.shape for o in outs] == [(24, 6, 10, 10), (24, 6, 5, 5), (24, 4, 5, 5), (24, 4, 1, 1)]
    for o in outs:
        assert o.dtype == np.int32 and o.min() >= 0 and o.max() <= net.T


def test_batching_does_not_change_results(images):
    net = _tiny_net()
    a = net.transform(images, batch_size=5)
    b = net.transform(images, batch_size=24)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_training_moves_weights_towards_bounds(images):
    net = _tiny_net()
    net.layers[0] = nw.ConvLayer(2, 6, 3, threshold=2.0, padding=1, wta_count=2, wta_radius=1, a_plus=0.05, a_minus=-0.04)
    before = net.layers[0].weight.copy()
    c0 = net.layers[0].convergence()
    log = net.train_layer(0, images, epochs=15, batch_size=8)
    assert not np.array_equal(before, net.layers[0].weight)
    # Kheradpisheh's convergence measure mean w(1-w) falls as weights settle at 0 or 1.
    assert len(log.rows) == 15 and log.rows[-1]["convergence"] < 0.8 * c0
    assert net.layers[0].weight.min() >= 0.0 and net.layers[0].weight.max() <= 1.0


def test_pool_layer_is_not_trainable(images):
    with pytest.raises(ValueError, match="no learnable weights"):
        _tiny_net().train_layer(1, images)


def test_checkpoint_roundtrip(tmp_path, images):
    net = _tiny_net()
    net.train_layer(0, images, epochs=1, batch_size=8)
    path = net.save(tmp_path / "net.npz")
    loaded = nw.Network.load(path)
    for a, b in zip(net.transform(images), loaded.transform(images)):
        np.testing.assert_array_equal(a, b)
    assert loaded.progress_state == {"layer": 1, "epoch": 0}
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_equals_uninterrupted(tmp_path, images):
    full = _tiny_net()
    full.train_layer(0, images, epochs=3, batch_size=8)

    class Stop(Exception):
        pass

    def stop_after_first(epoch, row):
        if epoch == 0:
            raise Stop

    part = _tiny_net()
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(Stop):
        part.train_layer(0, images, epochs=3, batch_size=8, checkpoint=ckpt, callback=stop_after_first)
    resumed = nw.Network.load(ckpt)
    assert resumed.progress_state == {"layer": 0, "epoch": 1}
    resumed.train_layer(0, images, epochs=3, batch_size=8, checkpoint=ckpt)
    np.testing.assert_array_equal(resumed.layers[0].weight, full.layers[0].weight)


def test_training_is_deterministic(images):
    a, b = _tiny_net(), _tiny_net()
    a.train_layer(0, images, epochs=2, batch_size=8, seed=3)
    b.train_layer(0, images, epochs=2, batch_size=8, seed=3)
    np.testing.assert_array_equal(a.layers[0].weight, b.layers[0].weight)


def test_decision_layer_learns_a_separable_task(rng):
    # Two classes whose spikes arrive in disjoint channels: R-STDP must learn to tell them apart.
    n = 120
    labels = rng.integers(0, 2, n)
    images = np.zeros((n, 4, 3, 3), np.float32)
    images[labels == 0, :2] = rng.random((np.sum(labels == 0), 2, 3, 3)) + 0.5
    images[labels == 1, 2:] = rng.random((np.sum(labels == 1), 2, 3, 3)) + 0.5
    net = nw.Network(nw.Frontend("none"), [nw.DecisionLayer(4, 10, 3, n_classes=2, seed=1, a_reward_plus=0.05, a_reward_minus=-0.04, a_punish_plus=-0.05, a_punish_minus=0.01)], T=6)
    net.train_layer(0, images, labels, epochs=15, batch_size=10)
    tmap = net.encode(images)
    accuracy = np.mean(net.layers[0].predict(tmap, net.T) == labels)
    assert accuracy > 0.9


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        nw.Network.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable workbench checkpoint"):
        nw.Network.load(bad)


def test_retraining_a_finished_layer_warns_unless_restart(images):
    import workbench

    net = _tiny_net()
    net.train_layer(0, images, epochs=1, batch_size=8)
    after_one = net.layers[0].weight.copy()
    with pytest.warns(workbench.WorkbenchWarning, match="restart=True"):
        log = net.train_layer(0, images, epochs=2, batch_size=8)
    assert log.rows == [] and np.array_equal(net.layers[0].weight, after_one)
    log = net.train_layer(0, images, epochs=2, batch_size=8, restart=True)
    assert len(log.rows) == 2 and not np.array_equal(net.layers[0].weight, after_one)


def test_training_log_csv_has_fixed_columns(tmp_path):
    # Rows of a convolution (convergence) and a decision layer (accuracy) share one header.
    log = nw.TrainingLog(tmp_path / "m.csv")
    log.append(layer=0, epoch=1, seconds=1.5, convergence=0.25)
    log.append(layer=2, epoch=1, seconds=2.0, train_accuracy=0.75)
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines == ["layer,epoch,seconds,convergence,train_accuracy", "0,1,1.5,0.25,", "2,1,2,,0.75"]
    with pytest.raises(ValueError, match="unknown training-log column"):
        log.append(layer=0, epoch=1, seconds=1.0, loss=3.0)
