"""The data-set registry: one TOML file per data set (``datasets/<name>.toml``).

Each registry file names a data set, the folder it occupies in a mirror or in the cache,
its public upstream locations, licence, citation and, for every file, its sha256.

Where the registry lives
------------------------
* Installed from a wheel: ``workbench/datasets/registry/*.toml`` (``setup.py`` copies the
  top-level ``datasets/*.toml`` there at build time).
* Source checkout / editable install: the top-level ``datasets/`` folder beside
  ``pyproject.toml``.

The packaged copy wins when present; the checkout folder is used only when it sits in a
workbench source tree (a bare ``site-packages/datasets`` belongs to another project).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Dataset", "FileEntry", "registry_dir", "load_registry", "get_dataset", "dataset_names"]

_PACKAGED = Path(__file__).resolve().parent / "registry"
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]

# How a file's sha256 is taken: of the stored bytes, or of the gzip-decompressed payload
# (MNIST: the .gz bytes differ between mirrors, the IDX payload does not).
CHECKSUM_KINDS = ("raw", "gunzip")


@dataclass(frozen=True)
class FileEntry:
    """One file of a data set.

    Attributes
    ----------
    path : str
        POSIX path relative to the data set's folder (and to each upstream source).
    sha256 : str
        Expected lowercase hex digest.
    checksum : {"raw", "gunzip"}
        ``"gunzip"``: the digest is of the decompressed gzip payload.
    """

    path: str
    sha256: str
    checksum: str = "raw"


@dataclass(frozen=True)
class Dataset:
    """A registered data set.

    Attributes
    ----------
    name : str
        Registry name (what ``workbench data fetch NAME`` takes).
    folder : str
        Sub-folder of a mirror or of the cache that holds its files.
    title, licence, citation, homepage : str
        Human-readable metadata.
    sources : tuple of str
        Upstream base URLs, tried in order; a file's URL is ``source + path``.
    files : tuple of FileEntry
        Every file with its checksum.
    note : str
        Optional remark (e.g. how checksums are taken).
    """

    name: str
    folder: str
    title: str
    licence: str
    citation: str
    homepage: str
    sources: tuple[str, ...]
    files: tuple[FileEntry, ...]
    note: str = ""
    registry_file: str = field(default="", compare=False)

    def file(self, path: str) -> FileEntry:
        """Return the entry of ``path`` (relative to the folder); ValueError if unknown."""
        for entry in self.files:
            if entry.path == path:
                return entry
        raise ValueError(f"file {path!r} is not part of data set {self.name!r}")


def registry_dir() -> Path:
    """Folder holding the ``*.toml`` registry files (packaged copy first, then checkout)."""
    if _PACKAGED.is_dir() and any(_PACKAGED.glob("*.toml")):
        return _PACKAGED
    checkout = _CHECKOUT_ROOT / "datasets"
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file() and any(checkout.glob("*.toml")):
        return checkout
    raise RuntimeError(
        f"workbench data-set registry not found (looked in {_PACKAGED} and {checkout}); "
        "the installation is incomplete: reinstall workbench"
    )


def _parse(path: Path) -> Dataset:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        files = []
        for item in raw["files"]:
            entry = FileEntry(str(item["path"]), str(item["sha256"]).lower(), str(item.get("checksum", "raw")))
            if entry.checksum not in CHECKSUM_KINDS:
                raise ValueError(f"unknown checksum kind {entry.checksum!r} for {entry.path}")
            if len(entry.sha256) != 64 or any(c not in "0123456789abcdef" for c in entry.sha256):
                raise ValueError(f"malformed sha256 for {entry.path}")
            if entry.path.startswith("/") or ".." in entry.path.split("/"):
                raise ValueError(f"unsafe path {entry.path!r}")
            files.append(entry)
        return Dataset(
            name=str(raw["name"]),
            folder=str(raw.get("folder", raw["name"])),
            title=str(raw.get("title", "")),
            licence=str(raw.get("licence", "")),
            citation=str(raw.get("citation", "")),
            homepage=str(raw.get("homepage", "")),
            sources=tuple(str(s) for s in raw.get("sources", ())),
            files=tuple(files),
            note=str(raw.get("note", "")),
            registry_file=str(path),
        )
    except (KeyError, TypeError) as exc:  # a malformed registry file is a packaging bug
        raise RuntimeError(f"malformed registry file {path}: {exc!r}") from exc


@lru_cache(maxsize=1)
def load_registry() -> dict[str, Dataset]:
    """All registered data sets, keyed by name (parsed once per process)."""
    out: dict[str, Dataset] = {}
    for path in sorted(registry_dir().glob("*.toml")):
        ds = _parse(path)
        if ds.name in out:
            raise RuntimeError(f"data set {ds.name!r} registered twice ({path})")
        out[ds.name] = ds
    return out


def dataset_names() -> list[str]:
    """Sorted names of the registered data sets."""
    return sorted(load_registry())


def get_dataset(name: str) -> Dataset:
    """Look a data set up by name (case-insensitive).

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If the name is unknown; the message lists the known data sets.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    reg = load_registry()
    if name in reg:
        return reg[name]
    for key, ds in reg.items():
        if key.lower() == name.lower():
            return ds
    raise ValueError(f"unknown data set {name!r}; known data sets: {', '.join(dataset_names())}")
