"""`workbench train / evaluate / features` on a small MNIST subset (CI's reduced run)."""

import json

import numpy as np
import pytest

from workbench.cli import main


@pytest.fixture
def mnist(data_file):
    data_file("mnist/train-images-idx3-ubyte.gz")
    data_file("mnist/t10k-images-idx3-ubyte.gz")


def test_train_evaluate_features(mnist, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "kheradpisheh2018-mnist", "--limit", "300", "--test-limit", "300", "--epochs", "1,1",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    # Learning happens: a tiny STDP run + SVM is far above chance (0.1).
    assert summary["test_accuracy"] > 0.3
    assert (out / "metrics.csv").read_text().count("\n") == 3  # header + one row per layer
    # an existing run is not overwritten silently
    assert main(args) == 1
    assert "pass --resume" in capsys.readouterr().err
    # resuming a finished run trains nothing more and gives the same accuracy
    assert main(args + ["--resume"]) == 0
    assert json.loads((out / "summary.json").read_text())["test_accuracy"] == summary["test_accuracy"]
    # a larger last --epochs trains the finished top layer further ...
    more = [a if a != "1,1" else "1,2" for a in args] + ["--resume"]
    capsys.readouterr()
    assert main(more) == 0
    printed = capsys.readouterr().out  # the epoch's metrics line, and only the new epoch's
    assert "layer=2, epoch=2," in printed and "layer=0" not in printed and "epoch=1," not in printed
    assert (out / "metrics.csv").read_text().count("\n") == 4
    extended = json.loads((out / "summary.json").read_text())
    assert extended["epochs"] == [1, 2] and extended["epoch_seconds_all_runs"] > 0
    # ... but a layer below a trained one stays as it is, and says so
    capsys.readouterr()
    assert main([a if a != "1,1" else "2,2" for a in args] + ["--resume"]) == 0
    assert "layer 0 stays at 1 epochs" in capsys.readouterr().err
    assert (out / "metrics.csv").read_text().count("\n") == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == [1, 2] and summary["test_accuracy"] == extended["test_accuracy"]

    capsys.readouterr()
    assert main(["evaluate", str(out / "checkpoint.npz"), "--limit", "300", "--test-limit", "300", "--probe"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    # the probe reads conv2's spikes (the global pooling's input): 100 maps of 14 x 14
    assert evaluated["probe_n_features"] == 100 * 14 * 14 and evaluated["probe_train_accuracy"] > 0.9
    assert 0.3 < evaluated["probe_test_accuracy"] <= 1.0

    nc = tmp_path / "features.nc"
    assert main(["features", str(out / "checkpoint.npz"), "--dataset", "mnist", "--limit", "20", "--out", str(nc)]) == 0
    import xarray as xr

    ds = xr.load_dataset(nc, engine="h5netcdf")
    assert ds["layer0_latency"].shape == (20, 30 * 28 * 28)
    assert set(np.unique(ds["layer0_spike_count"].values)) <= {0, 1}
    assert ((ds["layer0_latency"] < ds.attrs["T"]) == (ds["layer0_spike_count"] == 1)).all()
    assert ds["label"].shape == (20,)


def test_unknown_network_is_a_clear_error(capsys):
    assert main(["train", "alexnet"]) == 1
    assert "unknown network 'alexnet'" in capsys.readouterr().err


def test_bad_epochs(mnist, tmp_path, capsys):
    assert main(["train", "kheradpisheh2018-mnist", "--epochs", "1", "--out", str(tmp_path / "x"), "--limit", "10"]) == 1
    assert "--epochs needs 2" in capsys.readouterr().err
