"""Loaders returning labelled arrays (:class:`xarray.DataArray` / :class:`xarray.Dataset`).

Every loader goes through :func:`workbench.datasets.path`, so it reads only verified
files (cache first, then the mirror, in place).  Images come back as ``uint8`` with dims
``(image, y, x)`` (grayscale) or ``(image, channel, y, x)`` (colour), with the labels as
coordinates along ``image``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .._validation import check_choice, check_int, check_pair
from ._idx import read_idx
from ._registry import get_dataset
from ._store import path

__all__ = [
    "load_mnist",
    "load_caltech_face_motor",
    "load_eth80_cup_dog",
    "load_92_images",
    "load_it_rdms",
    "zhang_desimone_files",
    "nwb_file",
]

MNIST = "mnist"
CALTECH = "caltech_face_motor"
ETH80 = "eth80_cup_dog"
KRIEGESKORTE = "kriegeskorte2008_92images"
ZHANG = "zhang_desimone_7object_IT"
NWB = "nwb_a8604"
_SUPPLEMENTAL = "Kriegeskorte_Neuron2008_supplementalData.mat"
_BRAIN_RDMS = "92_brainRDMs.mat"


def _attrs(name: str, **extra) -> dict:
    ds = get_dataset(name)
    out = {"dataset": ds.name, "title": ds.title, "licence": ds.licence, "citation": ds.citation}
    out.update({k: str(v) for k, v in extra.items()})
    return out


def _read_gray(file: Path, size: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    with Image.open(file) as im:
        # Pillow's "L" conversion is the ITU-R 601-2 luma transform.
        gray = im.convert("L")
        if size is not None and gray.size != (size[1], size[0]):
            # Pillow's bilinear filter widens its support when shrinking (antialiased).
            gray = gray.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        return np.asarray(gray, dtype=np.uint8)


# --------------------------------------------------------------------------- MNIST


def load_mnist(split: str = "train", limit: int | None = None):
    """MNIST digits as a labelled array.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    limit : int, optional
        Keep only the first ``limit`` images (all when ``limit`` exceeds the split).

    Returns
    -------
    xarray.DataArray
        ``uint8``, dims ``(image, y, x)``, shape ``(n, 28, 28)``; coordinate ``label``
        (``uint8`` digit 0-9) along ``image``.

    Notes
    -----
    Read with the strict IDX reader :func:`workbench.datasets.read_idx` (magic numbers
    and sizes checked).  Files are verified by the sha256 of their decompressed payload.
    LeCun, Cortes & Burges, The MNIST database of handwritten digits.
    """
    import xarray as xr

    check_choice(split, "split", ("train", "test"))
    if limit is not None:
        limit = check_int(limit, "limit", min_value=1)
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(path(MNIST, f"{prefix}-images-idx3-ubyte.gz"), ndim=3)
    labels = read_idx(path(MNIST, f"{prefix}-labels-idx1-ubyte.gz"), ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(f"MNIST {split}: expected uint8 IDX files, got {images.dtype} / {labels.dtype}")
    if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: inconsistent sizes, images {images.shape}, labels {labels.shape}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"MNIST {split}: label {labels.max()} out of range 0-9")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    n = images.shape[0]
    return xr.DataArray(
        images,
        dims=("image", "y", "x"),
        coords={"image": np.arange(n), "label": ("image", labels)},
        name=f"mnist_{split}",
        attrs=_attrs(MNIST, split=split),
    )


# --------------------------------------------------------------------------- Caltech


CALTECH_SUBSETS = ("TrainingSet", "TestingSet", "LearningSet")
CALTECH_CLASSES = ("Face", "Motor")


def load_caltech_face_motor(subset: str = "TrainingSet", size=(160, 250)):
    """Caltech-101 Face / Motorbike images as used by Kheradpisheh et al. (2018).

    Parameters
    ----------
    subset : {"TrainingSet", "TestingSet", "LearningSet"}
        200+200 training, 198+198 test, or the 237+237 learning images.
    size : int or (int, int)
        Output ``(height, width)``.  Kheradpisheh et al. (2018, Neural Networks 99:56-67)
        converted the images to grayscale and rescaled them to 160 pixels in height,
        keeping the aspect ratio.  Stacking needs one width for all images: 250 is close
        to the typical aspect ratio of these ~500x330 images (so images are slightly
        stretched or squeezed horizontally, unlike the paper).

    Returns
    -------
    xarray.DataArray
        ``uint8``, dims ``(image, y, x)``, shape ``(n, height, width)``; coordinates along
        ``image``: ``label`` (0 face, 1 motorbike), ``class_name`` and ``file`` (path
        relative to the data set folder).  Faces first, then motorbikes, each sorted
        by file name.

    Notes
    -----
    Grayscale by Pillow's ITU-R 601-2 luma transform, resized with Pillow's bilinear
    (antialiased) filter.  Fei-Fei, Fergus & Perona (2004), Caltech-101.
    """
    import xarray as xr

    check_choice(subset, "subset", CALTECH_SUBSETS)
    h, w = check_pair(size, "size", min_value=1)
    root = path(CALTECH)
    rels, labels = [], []
    for label, cls in enumerate(CALTECH_CLASSES):
        prefix = f"{subset}/{cls}/"
        names = sorted(e.path for e in get_dataset(CALTECH).files if e.path.startswith(prefix))
        rels += names
        labels += [label] * len(names)
    images = np.empty((len(rels), h, w), dtype=np.uint8)
    for i, rel in enumerate(rels):
        images[i] = _read_gray(root / rel, (h, w))
    return xr.DataArray(
        images,
        dims=("image", "y", "x"),
        coords={
            "image": np.arange(len(rels)),
            "label": ("image", np.asarray(labels, dtype=np.int64)),
            "class_name": ("image", np.asarray([CALTECH_CLASSES[i] for i in labels])),
            "file": ("image", np.asarray(rels)),
        },
        name=f"caltech_face_motor_{subset}",
        attrs=_attrs(CALTECH, subset=subset),
    )


# --------------------------------------------------------------------------- ETH-80


ETH80_CLASSES = ("cup", "dog")
_ETH_NAME = re.compile(r"^(?P<cls>[a-z]+)(?P<obj>\d+)-(?P<elev>\d{3})-(?P<azim>\d{3})\.png$")


def load_eth80_cup_dog(size=None):
    """ETH-80 'cup' and 'dog' images (10 objects x 41 views each, 820 images).

    Parameters
    ----------
    size : None, int or (int, int)
        Output ``(height, width)``; None keeps the stored 64x64 (the copies shipped with
        SpykeTorch, Mozafari et al. 2019).  Mozafari et al. (2018, IEEE TNNLS 29(12),
        "First-spike-based visual categorization using reward-modulated STDP") used
        ETH-80 in grayscale; pass ``size`` to rescale to the resolution of a given
        experiment.

    Returns
    -------
    xarray.DataArray
        ``uint8``, dims ``(image, y, x)``; coordinates along ``image``: ``label`` (0 cup,
        1 dog), ``class_name``, ``object`` (1-10), ``elevation`` and ``azimuth`` (degrees,
        from the ETH-80 file names) and ``file``.

    Notes
    -----
    Leibe & Schiele (2003), ETH-80.  Grayscale by Pillow's ITU-R 601-2 luma transform.
    """
    import xarray as xr

    target = None if size is None else check_pair(size, "size", min_value=1)
    root = path(ETH80)
    rels = sorted(
        (e.path for e in get_dataset(ETH80).files),
        key=lambda p: (ETH80_CLASSES.index(p.split("/")[0]), _eth_key(p)),
    )
    meta = [_ETH_NAME.match(p.split("/")[-1]) for p in rels]
    if any(m is None for m in meta):  # registry and parser out of step: a packaging bug
        raise RuntimeError("unexpected ETH-80 file name in the registry")
    arrays = [_read_gray(root / rel, target) for rel in rels]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"ETH-80 images have different sizes {sorted(shapes)}; pass size=(height, width)")
    images = np.stack(arrays)
    labels = np.asarray([ETH80_CLASSES.index(m["cls"]) for m in meta], dtype=np.int64)
    return xr.DataArray(
        images,
        dims=("image", "y", "x"),
        coords={
            "image": np.arange(len(rels)),
            "label": ("image", labels),
            "class_name": ("image", np.asarray([m["cls"] for m in meta])),
            "object": ("image", np.asarray([int(m["obj"]) for m in meta], dtype=np.int64)),
            "elevation": ("image", np.asarray([int(m["elev"]) for m in meta], dtype=np.int64)),
            "azimuth": ("image", np.asarray([int(m["azim"]) for m in meta], dtype=np.int64)),
            "file": ("image", np.asarray(rels)),
        },
        name="eth80_cup_dog",
        attrs=_attrs(ETH80),
    )


def _eth_key(rel: str):
    m = _ETH_NAME.match(rel.split("/")[-1])
    return (int(m["obj"]), int(m["elev"]), int(m["azim"])) if m else (0, 0, 0)


# --------------------------------------------------------------------------- 92 images


def _loadmat(file: Path) -> dict:
    from scipy.io import loadmat

    return loadmat(file)


def _mat_str(x) -> str:
    return str(np.asarray(x).ravel()[0])


def load_92_images(grayscale: bool = False):
    """The 92 object images of Kiani et al. (2007) / Kriegeskorte et al. (2008).

    Parameters
    ----------
    grayscale : bool
        Return luma images (Pillow's ITU-R 601-2 transform) instead of RGB.

    Returns
    -------
    xarray.DataArray
        ``uint8``; dims ``(image, channel, y, x)`` with shape ``(92, 3, 175, 175)`` and
        ``channel`` = R, G, B, or ``(image, y, x)`` when ``grayscale``.  Coordinates along
        ``image``: ``category`` (one of 6: human/nonhuman bodypart/face, natural/artificial
        inanimate) and one boolean per column of ``categoryVectors`` (``animate``,
        ``inanim``, ``human``, ``nonhumani``, ``body``, ``face``, ``natObj``, ``artiObj``,
        ``rand24``, ``rand48``, ``other48``, ``monkeyape``).
    """
    import xarray as xr

    if not isinstance(grayscale, bool):
        raise TypeError(f"grayscale must be a bool, got {type(grayscale).__name__}")
    mat = _loadmat(path(KRIEGESKORTE, _SUPPLEMENTAL))
    stim = mat["stimuli_92objs"].ravel()
    images = np.stack([np.asarray(s["image"], dtype=np.uint8) for s in stim])
    if images.shape != (92, 175, 175, 3):
        raise ValueError(f"unexpected 92-image array shape {images.shape}")
    category = np.asarray([_mat_str(s["category"]) for s in stim])
    flag_names = [_mat_str(x) for x in mat["categoryLabels"].ravel()]
    vectors = np.asarray(mat["categoryVectors"])
    if vectors.shape != (92, len(flag_names)):
        raise ValueError(f"unexpected categoryVectors shape {vectors.shape}")
    coords = {"image": np.arange(92), "category": ("image", category)}
    for j, flag in enumerate(flag_names):
        coords[flag] = ("image", vectors[:, j].astype(bool))
    if grayscale:
        from PIL import Image

        data = np.stack([np.asarray(Image.fromarray(im, "RGB").convert("L")) for im in images])
        dims: tuple[str, ...] = ("image", "y", "x")
    else:
        data = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        dims = ("image", "channel", "y", "x")
        coords["channel"] = np.asarray(["R", "G", "B"])
    return xr.DataArray(data, dims=dims, coords=coords, name="images_92", attrs=_attrs(KRIEGESKORTE))


def load_it_rdms():
    """Monkey and human IT RDMs of the 92 images (Kriegeskorte et al. 2008, Fig. 1).

    Returns
    -------
    xarray.Dataset
        Coordinates ``condition`` and ``condition_b`` (0-91, with ``category`` /
        ``category_b``), ``subject`` (BE, KO, SN, TI) and ``session`` (1, 2).  Variables:

        - ``monkey_it`` ``(condition, condition_b)``: monkey IT, 674 neurons
          (``mIT_674neurons``; Kiani et al. 2007);
        - ``human_it`` ``(condition, condition_b)``: human IT fMRI, 316 voxels
          (``hITvisStim_316vx``);
        - ``human_it_subjects`` ``(subject, session, condition, condition_b)``: the
          eight per-subject, per-session human IT RDMs of ``92_brainRDMs.mat``.

        Values are dissimilarities (1 - Pearson r) as stored; the two group RDMs are
        expanded from their condensed 4186-vectors (MATLAB ``squareform`` order, which
        equals SciPy's).
    """
    import xarray as xr
    from scipy.spatial.distance import squareform

    mat = _loadmat(path(KRIEGESKORTE, _SUPPLEMENTAL))
    group = {}
    for item in mat["RDMs_mIT_hIT_fig1"].ravel():
        vec = np.asarray(item["RDM"], dtype=np.float64).ravel()
        if vec.size != 92 * 91 // 2:
            raise ValueError(f"unexpected RDM length {vec.size}")
        group[_mat_str(item["name"])] = squareform(vec, checks=False)
    try:
        monkey, human = group["mIT_674neurons"], group["hITvisStim_316vx"]
    except KeyError as exc:
        raise ValueError(f"RDMs_mIT_hIT_fig1 lacks {exc}; found {sorted(group)}") from None
    category = np.asarray([_mat_str(s["category"]) for s in mat["stimuli_92objs"].ravel()])

    brain = _loadmat(path(KRIEGESKORTE, _BRAIN_RDMS))["RDMs"]
    if brain.shape != (1, 4, 2):
        raise ValueError(f"unexpected 92_brainRDMs layout {brain.shape}")
    subjects, per_subject = [], np.empty((4, 2, 92, 92))
    for i in range(4):
        for j in range(2):
            cell = brain[0, i, j]
            m = re.match(r"hIT \| (\w+) \| Session: (\d)", _mat_str(cell["name"]))
            if m is None or int(m[2]) != j + 1:
                raise ValueError(f"unexpected RDM name {_mat_str(cell['name'])!r}")
            if j == 0:
                subjects.append(m[1])
            per_subject[i, j] = np.asarray(cell["RDM"], dtype=np.float64)
    cond = np.arange(92)
    return xr.Dataset(
        {
            "monkey_it": (("condition", "condition_b"), monkey),
            "human_it": (("condition", "condition_b"), human),
            "human_it_subjects": (("subject", "session", "condition", "condition_b"), per_subject),
        },
        coords={
            "condition": cond,
            "condition_b": cond,
            "category": ("condition", category),
            "category_b": ("condition_b", category),
            "subject": np.asarray(subjects),
            "session": np.asarray([1, 2]),
        },
        attrs=_attrs(KRIEGESKORTE),
    )


# --------------------------------------------------------------------------- recordings


def zhang_desimone_files() -> list[Path]:
    """Verified paths of the 132 per-unit raster ``.mat`` files (Zhang et al., PNAS 2011).

    Each file holds ``raster_data`` (uint8 trials x 1000, 1 ms bins, stimulus onset at
    bin 501), ``raster_labels`` and ``raster_site_info``.  Sorted by file name.
    """
    root = path(ZHANG)
    return sorted(root / e.path for e in get_dataset(ZHANG).files)


def nwb_file() -> Path:
    """Verified path of the third-party NWB file ``A8604-211122.nwb`` (pynapple test data)."""
    return path(NWB, "A8604-211122.nwb")
