"""`workbench neural info` and `workbench neural convert`."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import quantities as pq

from workbench.cli import main
from workbench.neural import align_units, load

IT = "zhang_desimone_7object_IT"
UNITS = ["bp1001spk_01A", "bp1002spk_01A"]


@pytest.fixture
def it_folder(tmp_path, data_file):
    # Two units in a scratch folder (the mirror itself is read-only and large).
    folder = tmp_path / "it"
    folder.mkdir()
    for name in UNITS:
        shutil.copy(data_file(f"{IT}/{name}_raster_data.mat"), folder)
    return folder


def test_help_texts(capsys):
    for argv in (["neural", "--help"], ["neural", "convert", "--help"], ["neural", "info", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "convert IN OUT" in out and "--format {nix,nwb}" in out and "label names" in out
    assert main(["neural"]) == 0  # bare group prints its help


def test_info_on_real_nwb(capsys, data_file):
    assert main(["neural", "info", str(data_file("nwb/A8604-211122.nwb"))]) == 0
    out = capsys.readouterr().out
    assert "3 unit(s), 21354 spike(s)" in out
    assert "unit '6': 11020 spikes" in out
    assert "epoch 'epochs': 1 entries; labels: labels, id, tags" in out


def test_convert_to_nix_and_info(tmp_path, capsys, it_folder):
    out = tmp_path / "it.nix"
    assert main(["neural", "convert", str(it_folder), str(out)]) == 0
    assert "2 unit(s)" in capsys.readouterr().out
    original, converted = load(it_folder), load(out)
    a = align_units(original, "stimulus", (-500, 500) * pq.ms, 1 * pq.ms)
    b = align_units(converted, "stimulus", (-500, 500) * pq.ms, 1 * pq.ms)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.values, y.values)
        np.testing.assert_array_equal(x.coords["stimulus_position"].values, y.coords["stimulus_position"].values)
    assert main(["neural", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 segment(s)" in text and "stimulus_ID" in text and "unit 'bp1001spk_01A'" in text


def test_convert_to_nwb_warns_on_stderr(tmp_path, capsys, it_folder):
    out = tmp_path / "it.nwb"
    assert main(["neural", "convert", str(it_folder), str(out), "--format", "nwb"]) == 0
    err = capsys.readouterr().err
    assert "warning: NWB (Neo's writer) will not keep" in err and "stimulus_ID" in err
    back = load(out)
    assert [s.name for s in back.segments] == UNITS
    assert main(["neural", "convert", str(it_folder), str(out)]) == 1  # exists, no --force
    assert "--force" in capsys.readouterr().err
    assert main(["neural", "convert", str(it_folder), str(out), "--force"]) == 0


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["neural", "info", str(tmp_path / "missing.nix")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench: error: no such file") and "\n" not in err
    bad = tmp_path / "x.qqq"
    bad.write_text("?")
    assert main(["neural", "info", str(bad)]) == 1
    assert "Supported formats" in capsys.readouterr().err
    assert main(["neural", "convert", str(bad), str(tmp_path / "o.abc")]) == 1
