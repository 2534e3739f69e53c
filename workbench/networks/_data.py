"""Training and test images of the published networks' data sets, as float arrays.

The simulator reads data through :mod:`workbench.datasets` (the data layer, shared by
both halves of the package) and converts the labelled arrays into ``(B, 1, H, W)``
float32 images in [0, 1] plus integer labels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_split", "DATASETS"]

DATASETS = ("mnist", "caltech_face_motor", "eth80_cup_dog")
# ETH-80 has no official split; we hold out whole objects (views of unseen objects).
ETH80_TEST_OBJECTS = (9, 10)


def _to_float(da) -> tuple[np.ndarray, np.ndarray]:
    images = np.asarray(da.values, dtype=np.float32)[:, None] / 255.0
    return np.ascontiguousarray(images), np.asarray(da["label"].values, dtype=np.int64)


def load_split(dataset: str, split: str, limit: int | None = None, image_size=None, seed: int = 0):
    """Images ``(B, 1, H, W)`` float32 and labels ``(B,)`` of a data set split.

    Parameters
    ----------
    dataset : {"mnist", "caltech_face_motor", "eth80_cup_dog"}
    split : {"train", "test"}
    limit : int, optional
        Keep a class-balanced subset of at most ``limit`` images (chosen with ``seed``).
    image_size : (int, int), optional
        Resize (Caltech, ETH-80).
    """
    from .. import datasets

    if dataset == "mnist":
        da = datasets.load_mnist(split)
    elif dataset == "caltech_face_motor":
        da = datasets.load_caltech_face_motor("TrainingSet" if split == "train" else "TestingSet", size=image_size or (160, 250))
    elif dataset == "eth80_cup_dog":
        da = datasets.load_eth80_cup_dog(size=image_size)
        held_out = np.isin(da["object"].values, ETH80_TEST_OBJECTS)
        da = da.isel(image=np.flatnonzero(held_out if split == "test" else ~held_out))
    else:
        raise ValueError(f"unknown data set {dataset!r}; networks train on {', '.join(DATASETS)}")
    images, labels = _to_float(da)
    if limit is not None and limit < len(labels):
        rng = np.random.default_rng(seed)
        classes = np.unique(labels)
        per_class = max(1, limit // len(classes))
        keep = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in classes])
        keep = np.sort(keep)
        images, labels = images[keep], labels[keep]
    return images, labels
