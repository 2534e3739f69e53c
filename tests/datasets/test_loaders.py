"""Loaders on the real data (skipped, naming the file, when the mirror lacks it)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from workbench.datasets import (
    DatasetNotFoundError,
    load_92_images,
    load_caltech_face_motor,
    load_eth80_cup_dog,
    load_it_rdms,
    load_mnist,
    nwb_file,
    zhang_desimone_files,
)

MNIST_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}


def ref_idx(path, header):
    """Plain reference: skip the fixed-size header of a gzip'd IDX file."""
    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=header)


def ref_luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma in floating point (Pillow rounds a fixed-point version)."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


# --------------------------------------------------------------------------- MNIST


@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_against_reference(split, data_file):
    prefix = "train" if split == "train" else "t10k"
    images_gz = data_file(f"mnist/{prefix}-images-idx3-ubyte.gz")
    labels_gz = data_file(f"mnist/{prefix}-labels-idx1-ubyte.gz")
    da = load_mnist(split)
    n = 60000 if split == "train" else 10000
    assert isinstance(da, xr.DataArray)
    assert da.dims == ("image", "y", "x") and da.shape == (n, 28, 28) and da.dtype == np.uint8
    assert np.bincount(da.label.values, minlength=10).tolist() == MNIST_COUNTS[split]
    np.testing.assert_array_equal(da.values.ravel(), ref_idx(images_gz, 16))
    np.testing.assert_array_equal(da.label.values, ref_idx(labels_gz, 8))
    assert da.attrs["dataset"] == "mnist" and "LeCun" in da.attrs["citation"]


def test_mnist_limit(data_file):
    data_file("mnist/t10k-images-idx3-ubyte.gz")
    full = load_mnist("test")
    one = load_mnist("test", limit=1)  # batch of one
    assert one.shape == (1, 28, 28) and one.label.item() == full.label.values[0]
    np.testing.assert_array_equal(one.values[0], full.values[0])
    assert load_mnist("test", limit=10**6).shape == full.shape  # more than available: all


def test_mnist_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="limit"):
        load_mnist("test", limit=0)
    with pytest.raises(TypeError, match="limit"):
        load_mnist("test", limit=2.5)


def test_missing_data_says_how_to_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("WORKBENCH_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(DatasetNotFoundError, match="workbench data fetch mnist"):
        load_mnist("test")
    with pytest.raises(DatasetNotFoundError, match="WORKBENCH_MIRROR"):
        load_it_rdms()


# --------------------------------------------------------------------------- Caltech


@pytest.mark.parametrize(("subset", "per_class"), [("TrainingSet", 200), ("TestingSet", 198), ("LearningSet", 237)])
def test_caltech_subsets(subset, per_class, data_file):
    data_file(f"caltech_face_motor/{subset}/Face")
    da = load_caltech_face_motor(subset, size=(16, 25))
    assert da.dims == ("image", "y", "x") and da.shape == (2 * per_class, 16, 25) and da.dtype == np.uint8
    assert np.bincount(da.label.values).tolist() == [per_class, per_class]
    assert set(da.class_name.values[da.label.values == 0]) == {"Face"}
    assert all(f.startswith(f"{subset}/") for f in da.file.values)


def test_caltech_default_size_and_pixels(mirror, data_file):
    first = data_file("caltech_face_motor/TestingSet/Face")
    da = load_caltech_face_motor("TestingSet")
    assert da.shape == (396, 160, 250)  # Kheradpisheh et al. 2018: 160 pixels high
    # At its native size an image must come back unchanged.
    rel = str(da.file.values[0])
    native = np.asarray(Image.open(mirror / "caltech_face_motor" / rel).convert("L"))
    same = load_caltech_face_motor("TestingSet", size=native.shape)
    np.testing.assert_array_equal(same.values[0], native)
    # Resizing preserves the mean brightness (antialiased filter).
    assert abs(float(da.values[0].mean()) - float(native.mean())) < 3
    assert first.is_dir()


def test_caltech_bad_arguments():
    with pytest.raises(ValueError, match="subset"):
        load_caltech_face_motor("ValidationSet")
    with pytest.raises(ValueError, match="size"):
        load_caltech_face_motor("TestingSet", size=(0, 10))
    with pytest.raises(TypeError, match="size"):
        load_caltech_face_motor("TestingSet", size="big")


# --------------------------------------------------------------------------- ETH-80


def test_eth80(mirror, data_file):
    data_file("eth80_cup_dog/cup/cup1-000-000.png")
    da = load_eth80_cup_dog()
    assert da.dims == ("image", "y", "x") and da.shape == (820, 64, 64) and da.dtype == np.uint8
    assert np.bincount(da.label.values).tolist() == [410, 410]
    for cls in ("cup", "dog"):
        sel = da.class_name.values == cls
        assert sorted(set(da.object.values[sel])) == list(range(1, 11))
        assert np.bincount(da.object.values[sel])[1:].tolist() == [41] * 10
    i = int(np.flatnonzero(da.file.values == "dog/dog3-066-027.png")[0])
    assert (da.object.values[i], da.elevation.values[i], da.azimuth.values[i]) == (3, 66, 27)
    rgb = np.asarray(Image.open(mirror / "eth80_cup_dog" / "dog/dog3-066-027.png").convert("RGB"), dtype=float)
    assert np.abs(da.values[i].astype(float) - ref_luma(rgb)).max() <= 1.0
    small = load_eth80_cup_dog(size=(1, 1))  # 1x1 images
    assert small.shape == (820, 1, 1)


def test_eth80_bad_size():
    with pytest.raises(ValueError, match="size"):
        load_eth80_cup_dog(size=(-1, 4))


# --------------------------------------------------------------------------- 92 images / RDMs


def test_92_images(data_file):
    data_file("kriegeskorte2008_92images/Kriegeskorte_Neuron2008_supplementalData.mat")
    da = load_92_images()
    assert da.dims == ("image", "channel", "y", "x") and da.shape == (92, 3, 175, 175) and da.dtype == np.uint8
    assert da.channel.values.tolist() == ["R", "G", "B"]
    assert int(da.animate.sum()) + int(da.inanim.sum()) == 92
    assert not np.any(da.animate.values & da.inanim.values)
    # The category strings agree with the flag vectors.
    cat = da.category.values
    assert np.array_equal(da.animate.values, ~np.char.endswith(cat.astype(str), "inanimate"))
    assert np.array_equal(da.face.values, np.char.endswith(cat.astype(str), "face"))
    gray = load_92_images(grayscale=True)
    assert gray.dims == ("image", "y", "x") and gray.shape == (92, 175, 175)
    rgb = da.values.transpose(0, 2, 3, 1).astype(float)
    assert np.abs(gray.values.astype(float) - ref_luma(rgb)).max() <= 1.0
    with pytest.raises(TypeError, match="grayscale"):
        load_92_images(grayscale=1)


def test_it_rdms(data_file):
    data_file("kriegeskorte2008_92images/92_brainRDMs.mat")
    data_file("kriegeskorte2008_92images/Kriegeskorte_Neuron2008_supplementalData.mat")
    ds = load_it_rdms()
    assert isinstance(ds, xr.Dataset)
    for var in ("monkey_it", "human_it"):
        rdm = ds[var]
        assert rdm.dims == ("condition", "condition_b") and rdm.shape == (92, 92)
        np.testing.assert_array_equal(rdm.values, rdm.values.T)
        np.testing.assert_array_equal(np.diag(rdm.values), 0)
    subj = ds.human_it_subjects
    assert subj.dims == ("subject", "session", "condition", "condition_b") and subj.shape == (4, 2, 92, 92)
    assert ds.subject.values.tolist() == ["BE", "KO", "SN", "TI"] and ds.session.values.tolist() == [1, 2]
    np.testing.assert_allclose(subj.values, subj.values.transpose(0, 1, 3, 2))
    # Fact from the mirror README: Spearman(monkey IT, human IT) = 0.439, which also
    # checks the condensed-vector unpacking order.  Reference Spearman by ranks:
    iu = np.triu_indices(92, 1)
    a, b = ds.monkey_it.values[iu], ds.human_it.values[iu]
    ra, rb = a.argsort().argsort(), b.argsort().argsort()  # no ties in these RDMs
    assert len(np.unique(a)) == a.size and len(np.unique(b)) == b.size
    assert np.corrcoef(ra, rb)[0, 1] == pytest.approx(0.439, abs=5e-4)
    assert ds.category.values[0] == "human bodypart"


# --------------------------------------------------------------------------- recordings


def test_zhang_desimone_files(data_file):
    data_file("zhang_desimone_7object_IT/bp1001spk_01A_raster_data.mat")
    from scipy.io import loadmat

    files = zhang_desimone_files()
    assert len(files) == 132 and files == sorted(files) and all(f.suffix == ".mat" for f in files)
    raster = loadmat(files[0])["raster_data"]
    assert raster.dtype == np.uint8 and raster.shape[1] == 1000


def test_nwb_file(data_file):
    data_file("nwb/A8604-211122.nwb")
    f = nwb_file()
    assert f.name == "A8604-211122.nwb" and f.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
