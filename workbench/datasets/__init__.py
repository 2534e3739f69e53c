"""Data sets: registry, verified local storage, download, and loaders.

The registry (``datasets/*.toml`` in the source tree, shipped inside the package) lists
every file of every data set with its sha256, upstream location, licence and citation.

Where data comes from
---------------------
* the cache ``$WORKBENCH_DATA`` (default ``~/.cache/workbench``), filled by
  ``workbench data fetch NAME`` / :func:`fetch`;
* a local mirror ``$WORKBENCH_MIRROR`` (e.g. ``../shared/datasets``), verified in place
  and used directly, without copying.

:func:`path` returns a verified folder or file and otherwise raises an error that says
how to fetch the data.  Loaders return :mod:`xarray` objects with labels as coordinates.
"""

from ._idx import parse_idx, read_idx
from ._loaders import (
    load_92_images,
    load_caltech_face_motor,
    load_eth80_cup_dog,
    load_it_rdms,
    load_mnist,
    nwb_file,
    zhang_desimone_files,
)
from ._registry import Dataset, FileEntry, dataset_names, get_dataset, load_registry, registry_dir
from ._store import (
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    VerifyReport,
    cache_root,
    ensure,
    fetch,
    file_sha256,
    locate,
    mirror_root,
    path,
    verify,
)

__all__ = [
    "Dataset",
    "FileEntry",
    "dataset_names",
    "get_dataset",
    "load_registry",
    "registry_dir",
    "ChecksumError",
    "DatasetNotFoundError",
    "DownloadError",
    "VerifyReport",
    "cache_root",
    "mirror_root",
    "file_sha256",
    "path",
    "locate",
    "ensure",
    "fetch",
    "verify",
    "read_idx",
    "parse_idx",
    "load_mnist",
    "load_caltech_face_motor",
    "load_eth80_cup_dog",
    "load_92_images",
    "load_it_rdms",
    "zhang_desimone_files",
    "nwb_file",
]
