"""`workbench data list | info | fetch | verify` through workbench.cli.main."""

from __future__ import annotations

import shutil

import pytest

from workbench.cli import main

NAMES = ["caltech_face_motor", "eth80_cup_dog", "kriegeskorte2008_92images", "mnist", "nwb_a8604",
         "zhang_desimone_7object_IT"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_list(capsys, cache):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out
    assert str(cache) in out


def test_info(capsys):
    assert main(["data", "info", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "LeCun" in out and "licence" in out and "decompressed".upper() in out.upper()


def test_data_without_action_prints_help(capsys):
    assert main(["data"]) == 2
    assert "fetch" in capsys.readouterr().out


def test_fetch_then_verify(capsys, cache, mirror, data_file):
    src = data_file("nwb/A8604-211122.nwb")
    assert main(["data", "fetch", "nwb_a8604", "--mirror", str(mirror), "--no-progress"]) == 0
    assert "verified" in capsys.readouterr().out
    copy = cache / "nwb" / "A8604-211122.nwb"
    assert copy.read_bytes() == src.read_bytes()
    assert main(["data", "verify", "nwb_a8604"]) == 0
    assert "1 file(s) OK" in capsys.readouterr().out
    # Corrupt the cached copy: verify names it and fails.
    data = bytearray(copy.read_bytes())
    data[1000] ^= 0x10
    copy.write_bytes(bytes(data))
    assert main(["data", "verify", "nwb_a8604"]) == 1
    out = capsys.readouterr().out
    assert "corrupt" in out and "A8604-211122.nwb" in out
    # fetch repairs it.
    assert main(["data", "fetch", "nwb_a8604", "--mirror", str(mirror), "--no-progress"]) == 0
    assert copy.read_bytes() == src.read_bytes()


def test_verify_mirror_and_missing(capsys, tmp_path, mirror, data_file):
    data_file("kriegeskorte2008_92images/92_brainRDMs.mat")
    assert main(["data", "verify", "kriegeskorte2008_92images", "--mirror", str(mirror)]) == 0
    partial = tmp_path / "partial"
    shutil.copytree(mirror / "kriegeskorte2008_92images", partial / "kriegeskorte2008_92images")
    (partial / "kriegeskorte2008_92images" / "92_behavRDMs.mat").unlink()
    capsys.readouterr()
    assert main(["data", "verify", "kriegeskorte2008_92images", "--mirror", str(partial)]) == 1
    assert "missing: 92_behavRDMs.mat" in capsys.readouterr().out


def test_fetch_partial_mirror_fails_naming_file(capsys, tmp_path, cache, mirror, data_file):
    data_file("kriegeskorte2008_92images/92_brainRDMs.mat")
    partial = tmp_path / "partial"
    shutil.copytree(mirror / "kriegeskorte2008_92images", partial / "kriegeskorte2008_92images")
    f = partial / "kriegeskorte2008_92images" / "92_modelRDMs.mat"
    f.write_bytes(f.read_bytes()[:1000])  # a partial file in the mirror
    assert main(["data", "fetch", "kriegeskorte2008_92images", "--mirror", str(partial), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "92_modelRDMs.mat" in err
    assert not (cache / "kriegeskorte2008_92images" / "92_modelRDMs.mat").exists()
    assert (cache / "kriegeskorte2008_92images" / "92_brainRDMs.mat").exists()


def test_bad_name_lists_known_sets(capsys):
    assert main(["data", "fetch", "imagenet", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "unknown data set 'imagenet'" in err
    for name in NAMES:
        assert name in err
    assert main(["data", "verify", "imagenet"]) == 1
    assert main(["data", "fetch", "mnist", "--mirror", "x", "--upstream"]) == 1
