"""Local storage of data sets: cache, mirror, checksums, downloads.

Two places can hold a data set, both with the same layout ``<root>/<folder>/<path>``:

* the **cache**, ``WORKBENCH_DATA`` (default: the user cache directory, e.g.
  ``~/.cache/workbench``), filled by :func:`fetch`;
* a **mirror**, ``WORKBENCH_MIRROR`` (or ``mirror=``), a read-only folder such as
  ``../shared/datasets``.

Design decisions
----------------
* :func:`path` never copies a mirror: it verifies the mirror's files **in place** and
  returns the mirror path (saves disk; mirrors are read-only).  Use :func:`fetch` with
  ``mirror=`` to copy a mirror into the cache instead.
* :func:`fetch` downloads every file through one routine, whatever the source: an
  upstream ``https://`` URL, a local server, or a mirror given as a folder (turned into
  a ``file://`` URL).  Bytes go to a temporary file beside the target, are hashed while
  they stream, and the file is renamed into place only when its sha256 matches; a
  partial or corrupt download is deleted and reported with its name.
* A file whose checksum does not match is never used: :func:`path` skips that location
  and, if no good copy exists, raises an error naming the file and saying how to fix it.
* Verified files are remembered for the life of the process, keyed by (path, size,
  mtime, ctime, inode), so repeated loads do not re-hash; :func:`verify` always re-hashes.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ._registry import Dataset, FileEntry, get_dataset

__all__ = [
    "DatasetNotFoundError",
    "ChecksumError",
    "DownloadError",
    "VerifyReport",
    "cache_root",
    "mirror_root",
    "file_sha256",
    "path",
    "ensure",
    "fetch",
    "verify",
    "locate",
]

_CHUNK = 1 << 20
_MAX_INFLATE = 1 << 24  # bound the memory one gzip step may produce
_USER_AGENT = "workbench-data/0.1 (Python urllib)"


class DatasetNotFoundError(FileNotFoundError):
    """A data set (or one of its files) is in neither the cache nor the mirror."""


class ChecksumError(ValueError):
    """A file exists but its sha256 does not match the registry (corrupt or partial)."""


class DownloadError(RuntimeError):
    """A file could not be downloaded from any source."""


# --------------------------------------------------------------------------- locations


def _user_cache_dir() -> Path:
    # Platform conventions, without a platformdirs dependency.
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "workbench" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "workbench"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench"


def cache_root() -> Path:
    """The cache folder: ``$WORKBENCH_DATA`` or the user cache directory (``~/.cache/workbench``)."""
    env = os.environ.get("WORKBENCH_DATA")
    return Path(env).expanduser() if env else _user_cache_dir()


def mirror_root() -> Path | None:
    """The local mirror folder from ``$WORKBENCH_MIRROR``, or None when unset or a URL."""
    env = os.environ.get("WORKBENCH_MIRROR")
    if not env or "://" in env:
        return None
    return Path(env).expanduser()


def _as_dir(value, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path, got {type(value).__name__}")
    return Path(value).expanduser()


# --------------------------------------------------------------------------- checksums


class _Truncated(Exception):
    pass


class _PayloadHasher:
    """sha256 of a byte stream, or of its gzip-decompressed payload (``kind="gunzip"``)."""

    def __init__(self, kind: str) -> None:
        self._h = hashlib.sha256()
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS) if kind == "gunzip" else None

    def update(self, chunk: bytes) -> None:
        if self._z is None:
            self._h.update(chunk)
            return
        data = chunk
        try:
            while data:
                self._h.update(self._z.decompress(data, _MAX_INFLATE))
                if self._z.eof:
                    data = self._z.unused_data
                    if data:  # gzip allows several members back to back
                        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise _Truncated(f"not a valid gzip stream ({exc})") from exc

    def hexdigest(self) -> str:
        if self._z is not None:
            try:
                self._h.update(self._z.flush())
            except zlib.error as exc:  # pragma: no cover - flush rarely fails
                raise _Truncated(f"not a valid gzip stream ({exc})") from exc
            if not self._z.eof:
                raise _Truncated("gzip stream ends early (truncated file)")
        return self._h.hexdigest()


def file_sha256(path: str | os.PathLike, checksum: str = "raw") -> str:
    """sha256 hex digest of a file, or of its gzip payload when ``checksum="gunzip"``.

    Raises
    ------
    ChecksumError
        For ``"gunzip"`` when the file is not a complete gzip stream.
    """
    hasher = _PayloadHasher(checksum)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()
    except _Truncated as exc:
        raise ChecksumError(f"{path}: {exc}") from None


_verified: dict[tuple, bool] = {}
_verified_lock = threading.Lock()


def _problem(file: Path, entry: FileEntry, *, use_memo: bool = True) -> str | None:
    """None when ``file`` matches ``entry``; otherwise a short reason."""
    try:
        st = file.stat()
    except FileNotFoundError:
        return "missing"
    if not file.is_file():
        return "not a regular file"
    # Any rewrite changes the inode, size, mtime or ctime (up to the file system's clock tick).
    key = (str(file), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, entry.sha256)
    if use_memo and _verified.get(key):
        return None
    try:
        digest = file_sha256(file, entry.checksum)
    except ChecksumError as exc:
        return str(exc).split(": ", 1)[-1]
    if digest != entry.sha256:
        what = "decompressed payload sha256" if entry.checksum == "gunzip" else "sha256"
        return f"{what} mismatch (got {digest[:12]}..., expected {entry.sha256[:12]}...): corrupt or partial"
    with _verified_lock:
        _verified[key] = True
    return None


# --------------------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    """Result of :func:`verify`.

    Attributes
    ----------
    name : str
        Data set name.
    folder : pathlib.Path
        The folder that was checked.
    n_ok : int
        Files whose checksum matched.
    missing : list of str
        Registry paths absent from the folder.
    corrupt : list of (str, str)
        ``(path, reason)`` for files present with the wrong checksum.
    """

    name: str
    folder: Path
    n_ok: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt

    def summary(self, max_lines: int = 20) -> str:
        """A human-readable report; lists problem files by name."""
        head = f"{self.name}: {self.folder}: {self.n_ok} file(s) OK"
        lines = [head]
        if self.corrupt:
            lines[0] += f", {len(self.corrupt)} corrupt"
        if self.missing:
            lines[0] += f", {len(self.missing)} missing"
        problems = [f"  corrupt: {p}: {why}" for p, why in self.corrupt] + [f"  missing: {p}" for p in self.missing]
        lines += problems[:max_lines]
        if len(problems) > max_lines:
            lines.append(f"  ... and {len(problems) - max_lines} more")
        return "\n".join(lines)


def verify(name: str, root: str | os.PathLike | None = None) -> VerifyReport:
    """Re-hash every file of a data set and report missing or corrupt ones.

    Parameters
    ----------
    name : str
        Registered data set name.
    root : path, optional
        A folder with the mirror/cache layout (holding ``<folder>/``).  Default: the
        cache when it holds this data set, else ``$WORKBENCH_MIRROR``.

    Returns
    -------
    VerifyReport
    """
    ds = get_dataset(name)
    if root is None:
        base = cache_root()
        if not (base / ds.folder).is_dir() and mirror_root() is not None:
            base = mirror_root()
    else:
        base = _as_dir(root, "root")
    folder = base / ds.folder
    report = VerifyReport(ds.name, folder)
    for entry in ds.files:
        why = _problem(folder / entry.path, entry, use_memo=False)
        if why is None:
            report.n_ok += 1
        elif why == "missing":
            report.missing.append(entry.path)
        else:
            report.corrupt.append((entry.path, why))
    return report


# --------------------------------------------------------------------------- path / ensure


def _how_to_get(ds: Dataset) -> str:
    return (
        f"run `workbench data fetch {ds.name}` (downloads into {cache_root()}), "
        f"or `workbench data fetch {ds.name} --mirror DIR` to copy from a local mirror, "
        f"or set WORKBENCH_MIRROR to a folder that holds {ds.folder}/"
    )


def _candidates(cache, mirror) -> list[tuple[str, Path]]:
    out = [("cache", _as_dir(cache, "cache") if cache is not None else cache_root())]
    m = _as_dir(mirror, "mirror") if mirror is not None else mirror_root()
    if m is not None:
        out.append(("mirror", m))
    return out


def locate(name: str, file: str | None = None, *, cache=None, mirror=None) -> tuple[str, Path]:
    """Like :func:`path` but also says where the data came from (``"cache"`` or ``"mirror"``)."""
    ds = get_dataset(name)
    if file is not None and not isinstance(file, str):
        raise TypeError(f"file must be a str, got {type(file).__name__}")
    entries = ds.files if file is None else (ds.file(file),)
    seen_corrupt: list[str] = []
    for label, base in _candidates(cache, mirror):
        folder = base / ds.folder
        if not folder.is_dir():
            continue
        bad = []
        for entry in entries:
            why = _problem(folder / entry.path, entry)
            if why is not None:
                bad.append((entry.path, why))
                if why == "missing":
                    break  # an incomplete copy is unusable: no need to hash the rest
                seen_corrupt.append(f"{folder / entry.path}: {why}")
        if not bad:
            return label, folder if file is None else folder / file
    what = f"file {file!r} of data set {ds.name!r}" if file else f"data set {ds.name!r}"
    if seen_corrupt:
        shown = "; ".join(seen_corrupt[:5]) + (f"; ... ({len(seen_corrupt) - 5} more)" if len(seen_corrupt) > 5 else "")
        raise ChecksumError(f"{what}: no verified copy; bad file(s), not used: {shown}. To repair, {_how_to_get(ds)}")
    looked = " and ".join(f"the {label} {base}" for label, base in _candidates(cache, mirror))
    if mirror is None and mirror_root() is None:
        looked += " (WORKBENCH_MIRROR is not set)"
    raise DatasetNotFoundError(f"{what} is not available locally (looked in {looked}); {_how_to_get(ds)}")


def path(name: str, file: str | None = None, *, cache=None, mirror=None) -> Path:
    """Local, verified folder of a data set (or one of its files).

    Looks in the cache first, then in the mirror, where files are verified in place and
    used directly (no copy).  Only locations where every requested file matches its
    sha256 are returned.

    Parameters
    ----------
    name : str
        Registered data set name (see ``workbench data list``).
    file : str, optional
        A path relative to the data set folder; only that file is verified and returned.
    cache, mirror : path, optional
        Override ``$WORKBENCH_DATA`` / ``$WORKBENCH_MIRROR``.

    Returns
    -------
    pathlib.Path
        The data set folder, or the file.

    Raises
    ------
    ValueError
        Unknown data set (the message lists the known ones) or unknown file.
    DatasetNotFoundError
        Nowhere to be found; the message says how to fetch it.
    ChecksumError
        Present but corrupt everywhere; the message names the bad files.
    """
    return locate(name, file, cache=cache, mirror=mirror)[1]


def ensure(name: str, *, download: bool = False, cache=None, mirror=None, progress: bool = True) -> Path:
    """Verified folder of a whole data set, fetching it first when ``download=True``.

    Without ``download`` this is :func:`path` for the whole set.  With it, a data set
    that is absent or corrupt locally is fetched into the cache (from ``mirror`` when
    given, else from upstream) and then returned.
    """
    try:
        return path(name, cache=cache, mirror=mirror)
    except (DatasetNotFoundError, ChecksumError):
        if not download:
            raise
    return fetch(name, cache=cache, mirror=mirror, progress=progress)


# --------------------------------------------------------------------------- fetch


def _mirror_base(mirror) -> str:
    """A mirror folder or URL as a base URL ending in ``/`` (folders become file:// URLs)."""
    if isinstance(mirror, str) and "://" in mirror:
        return mirror.rstrip("/") + "/"
    folder = _as_dir(mirror, "mirror")
    if not folder.is_dir():
        raise FileNotFoundError(f"mirror folder not found: {folder}")
    return folder.resolve().as_uri() + "/"


_umask_value: list[int] = []


def _umask() -> int:
    with _verified_lock:
        if not _umask_value:
            current = os.umask(0o022)  # reading the umask requires setting it
            os.umask(current)
            _umask_value.append(current)
        return _umask_value[0]


def _download(url: str, dest: Path, entry: FileEntry, *, timeout: float, on_bytes: Callable[[int], None]) -> None:
    """Stream ``url`` into a temporary file beside ``dest``; rename only when verified."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        hasher = _PayloadHasher(entry.checksum)
        received = 0
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                received += len(chunk)
                on_bytes(len(chunk))
        if length is not None and received != int(length):
            raise DownloadError(f"{entry.path}: incomplete download ({received} of {length} bytes); file discarded")
        try:
            digest = hasher.hexdigest()
        except _Truncated as exc:
            raise ChecksumError(f"{entry.path}: {exc}; file discarded") from None
        if digest != entry.sha256:
            raise ChecksumError(
                f"{entry.path}: sha256 mismatch (got {digest[:12]}..., expected {entry.sha256[:12]}...): "
                "corrupt or partial; file discarded"
            )
        # mkstemp creates 0600 files; give the cache the permissions of a normal file.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except _Truncated as exc:
        raise ChecksumError(f"{entry.path}: {exc}; file discarded") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        if isinstance(exc, (ChecksumError, DownloadError)):
            raise
        raise DownloadError(f"{entry.path}: cannot download {url}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def fetch(
    name: str,
    *,
    mirror: str | os.PathLike | None = None,
    upstream: bool = False,
    cache: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int = 4,
    timeout: float = 60.0,
) -> Path:
    """Download a data set into the cache and verify every file.

    Parameters
    ----------
    name : str
        Registered data set name.
    mirror : path or URL, optional
        Copy from this mirror (a folder, or a URL with the mirror layout
        ``<mirror>/<folder>/<path>``) instead of the upstream sources.  Default:
        ``$WORKBENCH_MIRROR`` when set, else upstream.  A folder goes through the same
        download code as a URL (as a ``file://`` URL).  A mirror is used alone: files
        it lacks are reported, not silently taken from the network.
    upstream : bool
        Ignore ``$WORKBENCH_MIRROR`` and download from the registry's upstream sources.
    cache : path, optional
        Destination root (default ``$WORKBENCH_DATA`` or the user cache directory).
    force : bool
        Re-download files that are already present and valid.
    progress : bool
        Show a tqdm progress bar (bytes) on stderr.
    workers : int
        Files downloaded concurrently.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    pathlib.Path
        The cache folder of the data set.

    Raises
    ------
    DownloadError, ChecksumError
        When some file could not be obtained intact; the message names the files.
        Files that did arrive intact are kept.
    """
    from .._validation import check_float, check_int

    ds = get_dataset(name)
    workers = check_int(workers, "workers", min_value=1, max_value=64)
    timeout = check_float(timeout, "timeout", min_value=0.0, strict_min=True)
    dest_root = (_as_dir(cache, "cache") if cache is not None else cache_root()) / ds.folder
    if upstream and mirror is not None:
        raise ValueError("upstream=True and mirror exclude each other")
    if mirror is None and not upstream and os.environ.get("WORKBENCH_MIRROR"):
        mirror = os.environ["WORKBENCH_MIRROR"]
    if mirror is not None:
        base = _mirror_base(mirror) + urllib.parse.quote(ds.folder) + "/"
        bases: tuple[str, ...] = (base,)
    else:
        bases = ds.sources
    if not bases:
        raise DownloadError(f"data set {ds.name!r} has no upstream source; use --mirror DIR")

    todo = [e for e in ds.files if force or _problem(dest_root / e.path, e) is not None]

    from tqdm.auto import tqdm

    bar = tqdm(total=None, unit="B", unit_scale=True, desc=f"fetch {ds.name}", disable=not progress or not todo)
    lock = threading.Lock()
    done = [len(ds.files) - len(todo)]

    def on_bytes(n: int) -> None:
        with lock:
            bar.update(n)

    def one(entry: FileEntry) -> str | None:
        errors = []
        for b in bases:
            url = b + urllib.parse.quote(entry.path)
            try:
                _download(url, dest_root / entry.path, entry, timeout=timeout, on_bytes=on_bytes)
                break
            except (DownloadError, ChecksumError) as exc:
                errors.append(str(exc))
        else:
            return " | ".join(errors)
        with lock:
            done[0] += 1
            bar.set_postfix_str(f"{done[0]}/{len(ds.files)} files", refresh=False)
        return None

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            failures = [f for f in pool.map(one, todo) if f is not None]
    finally:
        bar.close()
    if failures:
        shown = "\n  ".join(failures[:10])
        more = f"\n  ... and {len(failures) - 10} more" if len(failures) > 10 else ""
        raise DownloadError(f"{len(failures)} file(s) of {ds.name!r} could not be fetched intact:\n  {shown}{more}")
    return dest_root
