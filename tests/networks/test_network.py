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
    assert loaded.epochs_trained == [1, 0, 0, 0]
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
    net.train_layer(0, images, epochs=2, batch_size=8)
    after_two = net.layers[0].weight.copy()
    # epochs are totals: asking again for the 2 it has had trains nothing
    with pytest.warns(workbench.WorkbenchWarning, match="has had 2 of the 2 epochs.*restart=True"):
        log = net.train_layer(0, images, epochs=2, batch_size=8)
    assert log.rows == [] and np.array_equal(net.layers[0].weight, after_two)
    log = net.train_layer(0, images, epochs=2, batch_size=8, restart=True)
    # restart counts epochs from 0 again, continuing from the current weights
    assert len(log.rows) == 2 and not np.array_equal(net.layers[0].weight, after_two)
    assert net.epochs_trained[0] == 2


def _extend_equals_uninterrupted(make, train_args, first, total, tmp_path, index=0):
    full = make()
    full.train_layer(index, *train_args, epochs=total, batch_size=8)
    part = make()
    ckpt = tmp_path / "ckpt.npz"
    part.train_layer(index, *train_args, epochs=first, batch_size=8, checkpoint=ckpt)
    resumed = nw.Network.load(ckpt)
    assert resumed.progress_state == {"layer": index + 1, "epoch": 0}  # the layer was finished
    assert resumed.epochs_trained[index] == first and resumed.epochs_to_train(index, total) == total - first
    log = resumed.train_layer(index, *train_args, epochs=total, batch_size=8, checkpoint=ckpt)
    assert [row["epoch"] for row in log.rows] == list(range(first + 1, total + 1))
    np.testing.assert_array_equal(resumed.layers[index].weight, full.layers[index].weight)
    assert nw.Network.load(ckpt).epochs_trained[index] == total
    return resumed


def test_a_finished_layer_is_extended_as_if_uninterrupted(tmp_path, images):
    # The learning-rate schedule of STDP carries over: 2 + 1 epochs equal 3 in one go.
    resumed = _extend_equals_uninterrupted(_tiny_net, (images,), 2, 3, tmp_path)
    assert resumed.epoch_seconds > 0


def test_a_finished_decision_layer_is_extended_as_if_uninterrupted(tmp_path, rng):
    # Adaptive rates and per-epoch dropout carry over as well, also when an adaptation block
    # (of 15 samples) spans the end of an epoch (of 40).
    labels = rng.integers(0, 2, 40)
    images = rng.random((40, 4, 3, 3)).astype(np.float32)

    def make():
        layer = nw.DecisionLayer(4, 6, 3, n_classes=2, seed=1, dropout=0.3, adapt_every=15,
                                 rule="max_potential", padding=1)
        return nw.Network(nw.Frontend("none"), [layer], T=6)

    _extend_equals_uninterrupted(make, (images, labels), 2, 4, tmp_path)


def test_a_layer_appended_after_construction_trains(images):
    net = _tiny_net()
    net.layers = net.layers[:2]
    net.train_layer(0, images, epochs=1, batch_size=8)
    net.layers.append(nw.ConvLayer(6, 3, 3, threshold=1.0, padding=1, seed=5))
    assert net.epochs_to_train(2, 2) == 2 and net.epochs_to_train(0, 2) == 1
    assert len(net.train_layer(2, images, epochs=2, batch_size=8).rows) == 2
    assert net.epochs_trained == [1, 0, 2] and net.epochs_to_train(0, 2) == 0


def test_a_layer_below_a_trained_layer_is_frozen(images):
    import workbench

    net = _tiny_net()
    net.train_layer(0, images, epochs=1, batch_size=8)
    net.train_layer(2, images, epochs=1, batch_size=8)
    before = net.layers[0].weight.copy()
    assert net.epochs_to_train(0, 5) == 0 and net.epochs_to_train(2, 3) == 2
    assert net.why_frozen(0, 5) == "layer 2 above it has already been trained on its output"
    assert net.why_frozen(2, 1) == "it has had 1 of the 1 epochs asked for"
    with pytest.warns(workbench.WorkbenchWarning, match="layer 2 above it has already been trained"):
        log = net.train_layer(0, images, epochs=5, batch_size=8)
    assert log.rows == [] and np.array_equal(net.layers[0].weight, before)
    with pytest.raises(ValueError, match="index"):
        net.epochs_to_train(4, 1)


def test_checkpoint_without_epoch_counts_still_resumes(tmp_path, images):
    # Checkpoints written before the per-layer epoch counts existed know only the progress point.
    import json

    import workbench

    net = _tiny_net()
    ckpt = net.save(tmp_path / "old.npz")
    net.train_layer(0, images, epochs=2, batch_size=8, checkpoint=ckpt)
    with np.load(ckpt) as data:
        arrays = {k: data[k] for k in data.files}
    spec = json.loads(bytes(arrays["spec"]).decode())
    del spec["epochs_trained"], spec["epoch_seconds"]
    spec["progress"] = {"layer": 2, "epoch": 0}  # layer 0 finished, layer 2 not started
    arrays["spec"] = np.frombuffer(json.dumps(spec).encode(), dtype=np.uint8)
    np.savez(ckpt, **arrays)
    old = nw.Network.load(ckpt)
    assert old.epochs_trained == [None, 0, 0, 0] and old.epoch_seconds == 0.0
    assert old.epochs_to_train(2, 3) == 3
    with pytest.warns(workbench.WorkbenchWarning, match="did not record its epochs"):
        assert old.train_layer(0, images, epochs=3, batch_size=8).rows == []


def test_training_log_csv_has_fixed_columns(tmp_path):
    # Rows of a convolution (convergence) and a decision layer (accuracy) share one header.
    log = nw.TrainingLog(tmp_path / "m.csv")
    log.append(layer=0, epoch=1, seconds=1.5, convergence=0.25)
    log.append(layer=2, epoch=1, seconds=2.0, train_accuracy=0.75)
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines == ["layer,epoch,seconds,convergence,train_accuracy,train_silent,silent_after_epoch",
                     "0,1,1.5,0.25,,,", "2,1,2,,0.75,,"]
    with pytest.raises(ValueError, match="unknown training-log column"):
        log.append(layer=0, epoch=1, seconds=1.0, loss=3.0)


def _decision_net(**layer_args):
    layer = nw.DecisionLayer(4, 6, 3, n_classes=2, seed=1, padding=1, **layer_args)
    return nw.Network(nw.Frontend("none"), [layer], T=6)


def test_stop_silent_ends_training_once_a_training_sample_is_silent(tmp_path, rng):
    import workbench

    labels = rng.integers(0, 2, 30)
    images = rng.random((30, 4, 3, 3)).astype(np.float32) + 0.1
    images[:3] = 0.0  # no input spikes: no neuron can ever answer these
    ckpt = tmp_path / "c.npz"
    net = _decision_net()
    log = net.train_layer(0, images, labels, epochs=4, checkpoint=ckpt, stop_silent=True)
    assert [row["epoch"] for row in log.rows] == [1]
    assert log.rows[0]["silent_after_epoch"] == pytest.approx(0.1) and log.rows[0]["train_silent"] == pytest.approx(0.1)
    # The stop survives the checkpoint: a resumed run does not go on ...
    resumed = nw.Network.load(ckpt)
    assert resumed.epochs_trained == [1] and "silent" in resumed.stopped[0]
    assert resumed.epochs_to_train(0, 4) == 0
    with pytest.warns(workbench.WorkbenchWarning, match="stopped at epoch 1"):
        assert resumed.train_layer(0, images, labels, epochs=4, stop_silent=True).rows == []
    # ... unless asked to start again; without the rule all epochs run.
    assert len(resumed.train_layer(0, images, labels, epochs=2, restart=True).rows) == 2
    assert resumed.stopped == {}
    assert len(_decision_net().train_layer(0, images, labels, epochs=3).rows) == 3


def test_stop_silent_judges_the_layer_without_dropout(rng):
    # Every neuron dropped: all samples are silent while learning, none once the epoch is done.
    labels = rng.integers(0, 2, 20)
    images = rng.random((20, 4, 3, 3)).astype(np.float32) + 0.1
    net = _decision_net(dropout=1.0)
    log = net.train_layer(0, images, labels, epochs=2, stop_silent=True)
    assert [row["train_silent"] for row in log.rows] == [1.0, 1.0]
    assert [row["silent_after_epoch"] for row in log.rows] == [0.0, 0.0] and net.stopped == {}


def test_stop_silent_margin_judges_silence_at_a_raised_threshold(rng):
    labels = rng.integers(0, 2, 40)
    images = (rng.random((40, 4, 3, 3)) * (rng.random((40, 4, 3, 3)) > 0.5)).astype(np.float32)
    net = _decision_net(threshold=2.0)
    log = net.train_layer(0, images, labels, epochs=1, stop_silent=True, silent_margin=6.0)
    # Reference: with non-negative weights a neuron fires iff its final potential (sum of
    # the weights of the inputs that fired) reaches the threshold, here 6 * 2.0 (10-23 of the 36 inputs fire).
    fired = (net.encode(images) < net.T).astype(np.float64)
    weight = net.layers[0].conv.weight.astype(np.float64)
    padded = np.pad(fired, ((0, 0), (0, 0), (1, 1), (1, 1)))
    final = np.einsum("bcyxij,fcij->bfyx", np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3)), weight)
    silent = final.reshape(len(images), -1).max(axis=1) < 12.0
    assert 0 < silent.mean() < 1
    assert log.rows[0]["silent_after_epoch"] == pytest.approx(silent.mean())
    assert "at 6 x the threshold" in net.stopped[0]
    assert net.layers[0].threshold == 2.0  # the layer itself keeps its threshold
    # At the layer's own threshold fewer samples are silent.
    unit = _decision_net(threshold=2.0)
    assert unit.train_layer(0, images, labels, epochs=1, stop_silent=True).rows[0]["silent_after_epoch"] < silent.mean()


@pytest.mark.parametrize("layer_args, kwargs, match", [
    ({"threshold": 1.0}, {"stop_silent": True, "silent_margin": 0.5}, "silent_margin"),
    ({"threshold": 1.0}, {"silent_margin": 1.5}, "only applies with stop_silent"),
    ({"rule": "max_potential"}, {"stop_silent": True, "silent_margin": 1.5}, "first_spike"),  # no threshold to scale
])
def test_stop_silent_margin_rejects_bad_use(rng, layer_args, kwargs, match):
    labels = rng.integers(0, 2, 4)
    images = rng.random((4, 4, 3, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=match):
        _decision_net(**layer_args).train_layer(0, images, labels, **kwargs)


def test_stop_convergence_is_remembered_by_the_checkpoint(tmp_path, images):
    ckpt = tmp_path / "c.npz"
    net = _tiny_net()
    log = net.train_layer(0, images, epochs=5, batch_size=8, checkpoint=ckpt, stop_convergence=1.0)
    assert len(log.rows) == 1 and "convergence" in nw.Network.load(ckpt).stopped[0]
    assert nw.Network.load(ckpt).epochs_to_train(0, 5) == 0
