"""Published recipes: front end, decision rule, read-out against NumPy references, and learning."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import networks as nw
from workbench import snn
from workbench.networks import _published


# ----------------------------------------------------------------- NumPy references
def ref_frontend(images, sizes, filters, pad, threshold, radius):
    """DoG bank scaled to kernel peak 1, thresholded, locally normalised (plain loops)."""
    bank = snn.DoG(sizes, filters, pad)
    x = bank(images).astype(np.float64)
    F = len(filters)
    for f in range(F):
        k = bank.kernel[0, f] - bank.kernel[1, f]
        x[:, f::F] /= k.max()
    x[x < threshold] = 0.0
    if radius:
        B, C, H, W = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (radius, radius), (radius, radius)))
        mean = np.zeros_like(x)
        for y in range(H):
            for xx in range(W):
                mean[:, :, y, xx] = xp[:, :, y : y + 2 * radius + 1, xx : xx + 2 * radius + 1].sum(axis=(2, 3))
        mean /= (2 * radius + 1) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            x = x / (mean + 1e-12)
    return x


def ref_decide(tmap, weight, T, threshold, pad):
    """Brute-force first-spike decision with SpykeTorch's tie rule (most steps above
    threshold, then the potential at the first of them); dict b -> (f, t, y, x)."""
    B, C, H, W = tmap.shape
    F, _, kh, kw = weight.shape
    xp = np.pad(tmap, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=T)
    OH, OW = H + 2 * pad - kh + 1, W + 2 * pad - kw + 1
    out = {}
    for b in range(B):
        best = None
        for f in range(F):
            for y in range(OH):
                for x in range(OW):
                    patch = xp[b, :, y : y + kh, x : x + kw]
                    pots = [float((weight[f] * (patch <= t)).sum()) for t in range(T)]
                    fired = [p > threshold for p in pots]
                    if not any(fired):
                        continue
                    key = (sum(fired), pots[fired.index(True)])
                    if best is None or key > best[0]:  # strict: the lower flat index wins ties
                        best = (key, (f, T - key[0], y, x))
        if best is not None:
            out[b] = best[1]
    return out


def ref_region_max(pot, regions):
    B, F, H, W = pot.shape
    cells = []
    for r in np.array_split(np.arange(H), regions):
        for c in np.array_split(np.arange(W), regions):
            cells.append(pot[:, :, r][:, :, :, c].reshape(B, F, -1).max(axis=2))
    return np.concatenate(cells, axis=1)


# ----------------------------------------------------------------- front end
@pytest.mark.parametrize("shape", [(3, 1, 12, 10), (1, 1, 1, 1), (2, 1, 5, 5)])
def test_frontend_matches_reference(rng, shape):
    images = rng.random(shape).astype(np.float32)
    filters = [(1.0, 2.0), (2.0, 1.0)]
    fe = nw.Frontend("DoG", {"size": 2, "filters": filters, "pad": 2}, local_normalization=2, threshold=0.1,
                     peak_normalize=True)
    ref = ref_frontend(images, 2, filters, 2, 0.1, 2)
    np.testing.assert_allclose(fe(images), ref, rtol=2e-4, atol=1e-5)


def test_frontend_all_zero_and_threshold_effect(rng):
    fe = nw.Frontend("DoG", {"size": 3, "filters": [(1.0, 2.0)], "pad": 3}, threshold=0.2, peak_normalize=True)
    assert not fe(np.zeros((1, 1, 8, 8), np.float32)).any()
    images = rng.random((2, 1, 16, 16)).astype(np.float32)
    loose = nw.Frontend("DoG", {"size": 3, "filters": [(1.0, 2.0)], "pad": 3}, peak_normalize=True)(images)
    tight = fe(images)
    # The threshold only removes responses; it never changes those that survive.
    assert np.count_nonzero(tight) < np.count_nonzero(loose)
    np.testing.assert_array_equal(tight[tight > 0], loose[tight > 0])
    assert tight[tight > 0].min() >= 0.2


def test_peak_normalize_equalises_on_and_off_kernels():
    fe = nw.Frontend("DoG", {"size": 3, "filters": [(1.0, 2.0), (2.0, 1.0)], "pad": 0}, peak_normalize=True)
    # An image that equals each kernel's positive part gives a centre response; after
    # normalisation a unit impulse at the kernel's peak position gives exactly 1.
    for f in range(2):
        k = fe._bank.kernel[0, f] - fe._bank.kernel[1, f]
        y, x = np.unravel_index(np.argmax(k), k.shape)
        img = np.zeros((1, 1, 7, 7))
        img[0, 0, y, x] = 1.0
        assert fe(img)[0, f, 0, 0] == pytest.approx(1.0)


def test_frontend_bad_inputs():
    with pytest.raises(ValueError, match="threshold"):
        nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0)]}, threshold=-1.0)
    with pytest.raises(TypeError, match="threshold"):
        nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0)]}, threshold="high")
    with pytest.raises(ValueError, match="peak_normalize"):
        nw.Frontend("Gabor", {"size": 2, "filters": _published._GABOR4}, peak_normalize=True)
    with pytest.raises(TypeError, match="peak_normalize"):
        nw.Frontend("DoG", {"size": 1, "filters": [(1.0, 2.0)]}, peak_normalize=1)


# ----------------------------------------------------------------- decision layer
def _quarter_weights(rng, shape):
    # Multiples of 1/4: float32 sums are exact, so ties are real ties in both implementations.
    return (rng.integers(0, 4, shape) / 4).astype(np.float32)


@pytest.mark.parametrize("B,C,H,W,F,k,pad,T,thr", [
    (4, 3, 5, 5, 6, 3, 0, 5, 0.0),
    (3, 2, 4, 6, 4, 3, 1, 4, 1.0),
    (1, 1, 1, 1, 2, 1, 0, 1, 0.0),   # batch of 1, 1x1 map, T=1
    (2, 2, 3, 3, 4, 3, 1, 3, 2.5),
])
def test_decide_matches_reference(rng, B, C, H, W, F, k, pad, T, thr):
    layer = nw.DecisionLayer(C, F, k, n_classes=2, padding=pad, threshold=thr, seed=1)
    layer.conv.weight = _quarter_weights(rng, layer.weight.shape)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    ref = ref_decide(tmap, layer.weight, T, thr, pad)
    for winners in (layer._decide(tmap, T), layer._decide_dense(tmap, T)):
        assert sorted(winners[:, 0].tolist()) == sorted(ref)
        for b, f, t, y, x in winners.tolist():
            assert (f, t, y, x) == ref[b]


def test_decide_all_silent_and_ties(rng):
    layer = nw.DecisionLayer(2, 4, 3, n_classes=2, seed=0)
    tmap = np.full((2, 2, 3, 3), 5, np.int32)  # nothing ever fires
    assert layer._decide(tmap, 5).shape == (0, 5)
    assert (layer.predict(tmap, 5) == -1).all()
    layer.conv.weight = np.full(layer.weight.shape, 0.5, np.float32)  # all neurons identical
    tmap[:, :, 1, 1] = 0
    winners = layer._decide(tmap, 5)
    assert winners[:, 1].tolist() == [0, 0]  # a full tie goes to the lowest index


def test_first_spike_tie_goes_to_the_larger_potential_at_that_spike():
    # Two neurons both cross threshold at step 0; neuron 0 is higher at step 0, neuron 1
    # collects more later: SpykeTorch's rule picks neuron 0 (a sum over time would pick 1).
    layer = nw.DecisionLayer(2, 2, 1, n_classes=2, threshold=0.5, seed=0)
    layer.conv.weight = np.array([[[[1.0]], [[0.0]]], [[[0.75]], [[1.0]]]], np.float32)
    tmap = np.array([[[[0]], [[1]]]], np.int32)  # channel 0 fires at 0, channel 1 at 1
    for winners in (layer._decide(tmap, 4), layer._decide_dense(tmap, 4)):
        assert winners.tolist() == [[0, 0, 0, 0, 0]]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 6))
def test_decision_winner_fires_no_later_than_any_neuron(seed, T):
    # Invariant: the decision neuron fires first; no other neuron crosses threshold earlier.
    rng = np.random.default_rng(seed)
    layer = nw.DecisionLayer(2, 4, 2, n_classes=2, seed=seed % 1000)
    tmap = rng.integers(0, T + 1, (3, 2, 3, 3)).astype(np.int32)
    out = layer.forward(tmap, T)  # first-spike times of every decision neuron
    for b, f, t, y, x in layer._decide(tmap, T).tolist():
        assert out[b, f, y, x] == t == out[b].min()


def test_dropout_bars_neurons_during_training_only(rng):
    layer = nw.DecisionLayer(2, 8, 1, n_classes=2, dropout=0.5, seed=3)
    tmap = rng.integers(0, 4, (64, 2, 2, 2)).astype(np.int32)
    layer.new_epoch(0)
    dropped = layer._dropped.copy()
    assert 0 < dropped.sum() < 8
    layer.new_epoch(0)
    np.testing.assert_array_equal(layer._dropped, dropped)  # deterministic per epoch
    winners = layer._decide(tmap, 4, layer._dropped)
    assert not dropped[winners[:, 1]].any()
    layer.new_epoch(None)
    assert layer._dropped is None


def test_decision_rstdp_respects_bounds(rng):
    layer = nw.DecisionLayer(2, 4, 3, n_classes=2, stabilize=False, lower=0.2, upper=0.8, padding=1,
                             a_reward_plus=0.3, a_reward_minus=-0.3, a_punish_plus=-0.3, a_punish_minus=0.3, seed=0)
    assert layer.weight.min() >= 0.2 and layer.weight.max() <= 0.8  # N(0.8, 0.05) clipped
    tmap = rng.integers(0, 5, (16, 2, 4, 4)).astype(np.int32)
    for _ in range(5):
        layer.learn(tmap, 5, rng.integers(0, 2, 16))
    assert layer.weight.min() >= 0.2 - 1e-7 and layer.weight.max() <= 0.8 + 1e-7
    w = layer.weight
    assert (np.isclose(w, 0.2) | np.isclose(w, 0.8)).mean() > 0.1  # hard bounds are hit


def test_decision_layer_bad_inputs():
    with pytest.raises(ValueError, match="dropout"):
        nw.DecisionLayer(2, 4, 3, n_classes=2, dropout=1.5)
    with pytest.raises(ValueError, match="lower"):
        nw.DecisionLayer(2, 4, 3, n_classes=2, lower=0.8, upper=0.2)
    with pytest.raises(TypeError, match="stabilize"):
        nw.DecisionLayer(2, 4, 3, n_classes=2, stabilize="no")
    with pytest.raises(TypeError, match="threshold"):
        nw.DecisionLayer(2, 4, 3, n_classes=2, threshold=None)  # the rule says "no threshold"


# ----------------------------------------------------------------- max-potential rule (Mozafari 2019)
def ref_decide_max(tmap, weight, T, pad):
    """Largest final potential (sum of the weights of every input that fired); dict b -> (f, t, y, x)."""
    B, C, H, W = tmap.shape
    F, _, kh, kw = weight.shape
    xp = np.pad(tmap, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=T)
    OH, OW = H + 2 * pad - kh + 1, W + 2 * pad - kw + 1
    out = {}
    for b in range(B):
        best = None
        for f in range(F):
            for y in range(OH):
                for x in range(OW):
                    v = float((weight[f] * (xp[b, :, y : y + kh, x : x + kw] < T)).sum())
                    if best is None or v > best[0]:  # strict: the lower flat index wins ties
                        best = (v, (f, T - 1, y, x))
        if best[0] > 0:
            out[b] = best[1]
    return out


@pytest.mark.parametrize("B,C,H,W,F,k,pad,T", [
    (4, 3, 5, 5, 6, 3, 0, 5),
    (3, 2, 4, 6, 4, 3, 1, 4),
    (1, 1, 1, 1, 2, 1, 0, 1),   # batch of 1, 1x1 map, T=1
    (70, 2, 3, 3, 4, 3, 1, 3),  # more than one 64-sample chunk
])
def test_max_potential_decision_matches_reference(rng, B, C, H, W, F, k, pad, T):
    layer = nw.DecisionLayer(C, F, k, n_classes=2, padding=pad, rule="max_potential", seed=1)
    layer.conv.weight = _quarter_weights(rng, layer.weight.shape)
    tmap = rng.integers(0, T + 1, (B, C, H, W)).astype(np.int32)
    tmap[0] = T  # a silent sample is undecided
    ref = ref_decide_max(tmap, layer.weight, T, pad)
    winners = layer._decide(tmap, T)
    assert sorted(winners[:, 0].tolist()) == sorted(ref) and 0 not in ref
    for b, f, t, y, x in winners.tolist():
        assert (f, t, y, x) == ref[b]
    np.testing.assert_array_equal(layer.predict(tmap, T)[0], -1)
    out = layer.forward(tmap, T)  # thresholdless neurons fire at the last step when reached
    assert out.shape == (B, F, H + 2 * pad - k + 1, W + 2 * pad - k + 1)
    assert set(np.unique(out).tolist()) <= {T - 1, T} and (out[0] == T).all()


@pytest.mark.parametrize("rule", ["first_spike", "max_potential"])
def test_online_learning_equals_one_sample_at_a_time(rng, rule):
    # Invariant: a batch is learned exactly as its samples one after another (online R-STDP).
    kw = dict(n_classes=2, padding=1, rule=rule, threshold=1.0, seed=5, a_reward_plus=0.05,
              a_reward_minus=-0.04, a_punish_plus=-0.05, a_punish_minus=0.01)
    batched, single = nw.DecisionLayer(3, 6, 3, **kw), nw.DecisionLayer(3, 6, 3, **kw)
    tmap = rng.integers(0, 6, (24, 3, 4, 4)).astype(np.int32)
    labels = rng.integers(0, 2, 24)
    batched.learn(tmap, 6, labels)
    predictions = []
    for b in range(24):
        single.learn(tmap[b : b + 1], 6, labels[b : b + 1])
        predictions.append(single.last_prediction[0])
    np.testing.assert_array_equal(batched.weight, single.weight)
    np.testing.assert_array_equal(batched.last_prediction, predictions)
    assert not np.array_equal(batched.weight, nw.DecisionLayer(3, 6, 3, **kw).weight)  # it did learn


def test_adapt_every_uses_the_hit_rate_of_each_block(rng):
    layer = nw.DecisionLayer(2, 4, 2, n_classes=2, rule="max_potential", adapt_every=5, seed=0)
    tmap = rng.integers(0, 4, (12, 2, 3, 3)).astype(np.int32)
    labels = rng.integers(0, 2, 12)
    assert layer.hit_rate == 0.5  # chance before any block
    single = nw.DecisionLayer(2, 4, 2, n_classes=2, rule="max_potential", adapt_every=5, seed=0)
    hits = []
    for b in range(12):
        single.learn(tmap[b : b + 1], 4, labels[b : b + 1])
        hits.append(single.last_prediction[0] == labels[b])
    # After 12 samples: two full blocks; the rate is that of the second (samples 5..9).
    assert single.hit_rate == pytest.approx(np.mean(hits[5:10]))
    layer.learn(tmap, 4, labels)
    assert layer.hit_rate == single.hit_rate
    with pytest.raises(ValueError, match="rule"):
        nw.DecisionLayer(2, 4, 2, n_classes=2, rule="latest")
    with pytest.raises(ValueError, match="adapt_every"):
        nw.DecisionLayer(2, 4, 2, n_classes=2, adapt_every=-1)


# ----------------------------------------------------------------- Mozafari 2018 front end
def test_rectified_pooled_inhibited_frontend_matches_reference(rng):
    images = rng.random((2, 1, 20, 23)).astype(np.float32)
    front = nw.Frontend("Gabor", {"size": 2, "filters": _published._GABOR4, "pad": 2}, rectify=True, pool=(7, 6),
                        pointwise_inhibition=True)
    net = nw.Network(front, [nw.GlobalPool()], T=15)
    x = np.abs(snn.Gabor(2, _published._GABOR4, 2)(images))
    OH, OW = (20 - 7) // 6 + 1, (23 - 7) // 6 + 1
    pooled = np.zeros(x.shape[:2] + (OH, OW), np.float32)
    for y in range(OH):
        for xx in range(OW):
            pooled[:, :, y, xx] = x[:, :, 6 * y : 6 * y + 7, 6 * xx : 6 * xx + 7].max(axis=(2, 3))
    np.testing.assert_allclose(front(images), pooled, rtol=1e-6)
    tmap = net.encode(images)
    raw = snn.sparse.code(pooled, 15)
    for b in range(2):
        for y in range(OH):
            for xx in range(OW):
                fired = np.flatnonzero(tmap[b, :, y, xx] < 15)
                assert len(fired) <= 1  # one orientation per position
                if len(raw[b, :, y, xx][raw[b, :, y, xx] < 15]):
                    earliest = raw[b, :, y, xx].min()
                    assert len(fired) == 1 and raw[b, fired[0], y, xx] == earliest
                    candidates = np.flatnonzero(raw[b, :, y, xx] == earliest)
                    assert pooled[b, fired[0], y, xx] == pooled[b, candidates, y, xx].max()
    with pytest.raises(ValueError, match="pooling window"):
        nw.Frontend("none", pool=(30, 2))(images)
    with pytest.raises(TypeError, match="rectify"):
        nw.Frontend("none", rectify="yes")


# ----------------------------------------------------------------- forward inhibition
def test_forward_inhibit_switch(rng):
    tmap = rng.integers(0, 6, (3, 2, 6, 6)).astype(np.int32)
    on = nw.ConvLayer(2, 5, 3, threshold=1.0, padding=1, seed=4)
    off = nw.ConvLayer(2, 5, 3, threshold=1.0, padding=1, seed=4, forward_inhibit=False)
    raw, _ = snn.sparse.conv(tmap, on.weight, 1.0, 6, 1, 1)
    np.testing.assert_array_equal(off.forward(tmap, 6), raw)
    inhibited = on.forward(tmap, 6)
    np.testing.assert_array_equal(inhibited, snn.sparse.inhibit(*snn.sparse.conv(tmap, on.weight, 1.0, 6, 1, 1), 6)[0])
    # Reference pointwise inhibition: at most one feature fires per position, the earliest one.
    assert ((inhibited < 6).sum(axis=1) <= 1).all()
    assert (inhibited.min(axis=1) == raw.min(axis=1)).all()
    # Learning still inhibits: both layers learn identically.
    on.learn(tmap, 6)
    off.learn(tmap, 6)
    np.testing.assert_array_equal(on.weight, off.weight)


# ----------------------------------------------------------------- read-out
@pytest.mark.parametrize("regions", [1, 2, 3])
def test_region_max_matches_reference(rng, regions):
    net = nw.Network(nw.Frontend("none"), [nw.ConvLayer(2, 3, 3, threshold=1.0, padding=1, seed=0)], T=6)
    images = rng.random((4, 2, 7, 8)).astype(np.float32)
    feats = nw.global_max_potentials(net, images, regions=regions, batch_size=3)
    pot = net.layers[0].final_potentials(net.encode(images), net.T)
    np.testing.assert_allclose(feats, ref_region_max(pot, regions), rtol=1e-6)
    if regions == 1:
        np.testing.assert_allclose(feats, pot.max(axis=(2, 3)), rtol=1e-6)


def test_region_max_defaults_to_meta_and_rejects_bad_regions(rng):
    net = nw.Network(nw.Frontend("none"), [nw.ConvLayer(1, 2, 3, threshold=1.0, seed=0)], T=4,
                     meta={"readout_regions": 2})
    images = rng.random((2, 1, 6, 6)).astype(np.float32)
    assert nw.global_max_potentials(net, images).shape == (2, 8)
    with pytest.raises(ValueError, match="regions"):
        nw.global_max_potentials(net, images, regions=0)
    with pytest.raises(ValueError, match="regions"):
        nw.global_max_potentials(net, images, regions=5)


def test_readout_layer_defaults_to_meta(rng):
    layers = [nw.ConvLayer(1, 2, 3, threshold=1.0, padding=1, seed=0), nw.ConvLayer(2, 3, 3, threshold=1.0, seed=1)]
    images = rng.random((2, 1, 6, 6)).astype(np.float32)
    last = nw.Network(nw.Frontend("none"), layers, T=4)
    first = nw.Network(nw.Frontend("none"), layers, T=4, meta={"readout_layer": 0})
    np.testing.assert_array_equal(nw.global_max_potentials(last, images), nw.global_max_potentials(last, images, layer=1))
    np.testing.assert_array_equal(nw.global_max_potentials(first, images), nw.global_max_potentials(last, images, layer=0))
    caltech = nw.build("kheradpisheh2018-caltech")
    assert (caltech.meta["readout_layer"], caltech.meta["readout_regions"]) == (2, 3)


# ----------------------------------------------------------------- recipes
def test_recipes_match_the_papers():
    k = nw.build("kheradpisheh2018-mnist")
    c1, c2 = k.layers[0], k.layers[2]
    assert (c1.out_channels, c1.kernel_size, c1.threshold) == (30, 5, 15.0)
    assert (c2.out_channels, c2.kernel_size, c2.threshold) == (100, 5, 10.0)
    assert (c1.a_plus, c1.a_minus, c1.lr_factor, c1.lr_every, c1.lr_cap) == (0.004, -0.003, 2.0, 500, 0.15)
    m = nw.build("mozafari2019-mnist")
    d = m.layers[-1]
    assert (d.out_channels, d.n_classes, d.lower, d.upper, d.stabilize) == (200, 10, 0.2, 0.8, False)
    assert (d.a_reward_plus, d.a_reward_minus, d.a_punish_plus, d.a_punish_minus) == (0.004, -0.003, -0.004, 0.0005)
    # MNIST 28x28 -> conv1 28 -> pool 14 -> conv2 14 -> pool 4 -> decision (pad 2, 5x5) 4x4.
    outs = m.transform(np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32))
    assert [o.shape[1:] for o in outs] == [(30, 28, 28), (30, 14, 14), (250, 14, 14), (250, 4, 4), (200, 4, 4)]
    s = nw.build("mozafari2018-caltech").layers[-1]
    assert (s.a_reward_plus, s.a_reward_minus, s.a_punish_plus, s.a_punish_minus) == (0.005, -0.0025, -0.005, 0.0005)


@pytest.mark.parametrize("name", list(_published.RECIPES))
def test_every_recipe_round_trips(tmp_path, name):
    net = nw.build(name, seed=2)
    loaded = nw.Network.load(net.save(tmp_path / "n.npz"))
    assert json.loads(json.dumps(loaded.spec())) == json.loads(json.dumps(net.spec()))  # JSON: tuples -> lists
    for a, b in zip(net.layers, loaded.layers):
        for key, value in a.state().items():
            np.testing.assert_array_equal(value, b.state()[key])


# ----------------------------------------------------------------- learning on real data
@pytest.fixture
def mnist_small(data_file):
    data_file("mnist/t10k-images-idx3-ubyte.gz")
    from workbench.networks._data import load_split

    # The 10k test file loads faster than the 60k training file; split it into two disjoint halves.
    x, y = load_split("mnist", "test", 600, seed=1)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:400], order[400:]
    return (x[train], y[train]), (x[test], y[test])


@pytest.mark.slow  # ~15 s on an idle 2-core machine
def test_kheradpisheh_learns_on_a_small_subset(mnist_small):
    (tx, ty), (ex, ey) = mnist_small
    tx, ty = tx[:300], ty[:300]
    net = nw.build("kheradpisheh2018-mnist")
    for i in (0, 2):  # a faster rate schedule (cap after 120 images) so that 300 images suffice
        net.layers[i].lr_every = 20
        net.layers[i].reset_schedule()
    c0 = [net.layers[i].convergence() for i in (0, 2)]
    logs = [net.train_layer(i, tx, epochs=2).rows for i in (0, 2)]
    c1 = [net.layers[i].convergence() for i in (0, 2)]
    # C = mean w(1-w) may first rise (weights leave 0.8 through 0.5) but must end falling.
    assert all(log[-1]["convergence"] < log[-2]["convergence"] for log in logs), logs
    assert c1[0] < 0.6 * c0[0] and c1[1] < 0.6 * c0[1], (c0, c1)
    readout = nw.SVMReadout().fit(nw.global_max_potentials(net, tx, regions=2), ty)
    accuracy = readout.score(nw.global_max_potentials(net, ex, regions=2), ey)
    assert accuracy > 0.6, accuracy  # chance is 0.1


@pytest.mark.slow  # ~35 s on a busy 2-core machine
def test_mozafari2019_learns_on_a_small_subset(data_file):
    data_file("mnist/t10k-images-idx3-ubyte.gz")
    from workbench.networks._data import load_split

    x, y = load_split("mnist", "test", 1000, seed=1)
    order = np.random.default_rng(0).permutation(len(y))
    (tx, ty), (ex, ey) = (x[order[:700]], y[order[:700]]), (x[order[700:]], y[order[700:]])
    net = nw.build("mozafari2019-mnist")
    for i in (0, 2):  # a faster rate schedule so that 400 images move the STDP layers
        net.layers[i].lr_every = 10
        net.layers[i].reset_schedule()
        net.train_layer(i, tx[:400], epochs=2)
    log = net.train_layer(4, tx, ty, epochs=8).rows
    assert log[-1]["train_accuracy"] > log[0]["train_accuracy"] + 0.05, log  # R-STDP improves the hit rate
    decision = net.layers[4]
    assert decision.weight.min() >= 0.2 - 1e-6 and decision.weight.max() <= 0.8 + 1e-6
    accuracy = np.mean(decision.predict(net._run(net.encode(ex), 0, 4)[0], net.T) == ey)
    assert accuracy > 0.2, accuracy  # chance is 0.1 (measured: 0.28)


@pytest.mark.slow  # ~40 s on a busy 2-core machine
@pytest.mark.parametrize("name,needed,epochs,floor", [
    ("mozafari2018-caltech", "caltech_face_motor/TrainingSet", 20, 0.7),  # measured 0.87
    ("mozafari2018-eth80", "eth80_cup_dog", 10, 0.85),  # measured 0.96
])
def test_mozafari2018_learns(data_file, name, needed, epochs, floor):
    data_file(needed)
    from workbench.networks._data import load_split

    recipe = nw.RECIPES[name]
    tx, ty = load_split(recipe.dataset, "train", image_size=recipe.image_size)
    ex, ey = load_split(recipe.dataset, "test", image_size=recipe.image_size)
    net = recipe.build(seed=0)
    before = net.layers[-1].weight.copy()
    net.train_layer(len(net.layers) - 1, tx, ty, epochs=epochs)
    w = net.layers[-1].weight
    assert w.min() >= 0.0 and w.max() <= 1.0 and np.abs(w - before).mean() > 0.01  # it learned, within bounds
    accuracy = np.mean(net.layers[-1].predict(net._run(net.encode(ex), 0, len(net.layers) - 1)[0], net.T) == ey)
    assert accuracy > floor, accuracy  # chance is 0.5
