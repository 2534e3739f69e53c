"""What every pipeline in ``analyses/`` shares: its context, its result, and the cache.

A pipeline is a module with ``TITLE`` (str), ``DATASETS`` (registry names it reads) and
``run(ctx: Context) -> Result``.  It reads like a methods section: load data, compute,
test, plot.  Intermediate results go through :meth:`Context.cached`, so re-running skips
work that is done and still valid (same parameters, readable file).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Context", "Figure", "Number", "Result"]


@dataclass
class Figure:
    """A figure written by a pipeline: ``out_dir/stem.png`` and ``.pdf``."""

    stem: str
    caption: str


@dataclass
class Number:
    """A key number of a pipeline, with the range a sane run must fall in."""

    name: str
    value: float
    description: str
    valid_range: tuple[float, float]

    def ok(self) -> bool:
        return bool(np.isfinite(self.value) and self.valid_range[0] <= self.value <= self.valid_range[1])


@dataclass
class Result:
    """What a pipeline returns: its figures, key numbers and the data sets it used."""

    figures: list[Figure] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _params_hash(params: dict[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Context:
    """Run settings handed to a pipeline.

    Attributes
    ----------
    out_dir : Path
        Where figures are written (``figures/``).
    cache_dir : Path
        This pipeline's cache folder.
    quick : bool
        Run on a small subset (CI): same code path, smaller numbers.
    seed : int
        Seed of every random draw in the pipeline.
    progress : bool
        Show progress bars.
    code_version : str
        Fingerprint of the code (workbench version, this pipeline's source): part of every
        cache key, so results cached by older code are not reused.
    """

    out_dir: Path
    cache_dir: Path
    quick: bool = False
    seed: int = 0
    progress: bool = True
    code_version: str = ""
    log_lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.cache_dir = Path(self.cache_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def log(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        self.log_lines.append(line)
        if self.progress:
            print(line, flush=True)

    def cached(self, key: str, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, stored in the cache under ``key`` for these ``params``.

        ``compute`` returns a dict of NumPy arrays (stored as ``.npz``) or an xarray
        Dataset/DataArray (stored as netCDF).  The file name carries a hash of ``params``
        and of ``quick``/``seed``/``code_version``, so a change of parameters or code recomputes; a file that
        cannot be read is recomputed too.  Files are written atomically.
        """
        import xarray as xr

        full = {"params": params, "quick": self.quick, "seed": self.seed, "code": self.code_version}
        stem = f"{key}-{_params_hash(full)}"
        for suffix in (".npz", ".nc"):
            path = self.cache_dir / f"{stem}{suffix}"
            if path.exists():
                try:
                    if suffix == ".npz":
                        with np.load(path, allow_pickle=False) as data:
                            return {k: data[k] for k in data.files}
                    loaded = xr.load_dataset(path, engine="h5netcdf")
                    if loaded.attrs.get("_workbench_dataarray"):
                        return loaded[loaded.attrs["_workbench_dataarray"]]
                    return loaded
                except Exception:  # corrupt or partial: recompute
                    self.log(f"cache file {path.name} unreadable; recomputing")
                    path.unlink(missing_ok=True)
        value = compute()
        if isinstance(value, dict):
            path = self.cache_dir / f"{stem}.npz"
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **{k: np.asarray(v) for k, v in value.items()})
        elif isinstance(value, (xr.Dataset, xr.DataArray)):
            path = self.cache_dir / f"{stem}.nc"
            ds = value
            if isinstance(value, xr.DataArray):
                name = value.name or "data"
                ds = value.to_dataset(name=name)
                ds.attrs["_workbench_dataarray"] = name
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            os.close(fd)
            ds.to_netcdf(tmp, engine="h5netcdf")
        else:
            raise TypeError(f"cached() stores dicts of arrays or xarray objects, got {type(value).__name__}")
        os.replace(tmp, path)
        return value

    def save_figure(self, fig, stem: str) -> list[Path]:
        """Write ``fig`` as ``out_dir/stem.png`` and ``.pdf`` and close it."""
        from workbench.plots import save_figure

        return list(save_figure(fig, self.out_dir / stem))
