"""Cache, mirror, checksums and downloads (no network: a local server on 127.0.0.1)."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.datasets import (
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    Dataset,
    FileEntry,
    ensure,
    fetch,
    file_sha256,
    locate,
    path,
    verify,
)
from workbench.datasets import _registry, _store

# --------------------------------------------------------------------------- helpers


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TOY_FILES = {
    "a.bin": bytes(range(256)) * 40,
    "sub/b.txt": b"hello, world\n",
    "c.idx.gz": b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03",  # stored gzipped, checksum of payload
}


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A registered toy data set, its mirror folder, and empty cache / no env mirror."""
    mirror = tmp_path / "mirror"
    folder = mirror / "toyfolder"
    for rel, payload in TOY_FILES.items():
        f = folder / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(gzip.compress(payload, mtime=0) if rel.endswith(".gz") else payload)
    entries = tuple(
        FileEntry(rel, sha(payload), "gunzip" if rel.endswith(".gz") else "raw") for rel, payload in TOY_FILES.items()
    )
    ds = Dataset("toy", "toyfolder", "Toy", "CC0", "nobody", "", ("http://127.0.0.1:9/unused/",), entries)
    real = dict(_registry.load_registry())
    monkeypatch.setattr(_registry, "load_registry", lambda: {**real, "toy": ds})
    cache = tmp_path / "cache"
    monkeypatch.setenv("WORKBENCH_DATA", str(cache))
    monkeypatch.delenv("WORKBENCH_MIRROR", raising=False)
    return {"ds": ds, "mirror": mirror, "cache": cache, "monkeypatch": monkeypatch}


def set_sources(toy, *sources):
    ds = dataclasses.replace(toy["ds"], sources=tuple(sources))
    real = dict(_registry.load_registry())
    toy["monkeypatch"].setattr(_registry, "load_registry", lambda: {**real, "toy": ds})


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/partial/<path>`` promises the full length but sends half."""

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/partial/"):
            f = Path(self.directory) / self.path[len("/partial/") :]
            data = f.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """Start an HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``; yields (root, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.part")] if folder.exists() else []


# --------------------------------------------------------------------------- checksums


def test_file_sha256_raw_matches_hashlib(tmp_path, rng):
    data = rng.integers(0, 256, 3_000_000, dtype="u1").tobytes()  # > one read chunk
    f = tmp_path / "x"
    f.write_bytes(data)
    assert file_sha256(f) == sha(data)


def test_file_sha256_empty_file(tmp_path):
    f = tmp_path / "empty"
    f.write_bytes(b"")
    assert file_sha256(f) == sha(b"")
    with pytest.raises(ChecksumError, match="empty"):
        file_sha256(f, "gunzip")  # an empty file is not a gzip stream


def test_gunzip_checksum_is_payload_and_independent_of_compression(tmp_path, rng):
    payload = rng.integers(0, 4, 500_000, dtype="u1").tobytes()
    for level in (1, 9):
        f = tmp_path / f"p{level}.gz"
        f.write_bytes(gzip.compress(payload, compresslevel=level))
        assert file_sha256(f, "gunzip") == sha(payload)
    assert (tmp_path / "p1.gz").read_bytes() != (tmp_path / "p9.gz").read_bytes()


def test_gunzip_multi_member_and_truncated(tmp_path):
    f = tmp_path / "m.gz"
    f.write_bytes(gzip.compress(b"abc") + gzip.compress(b"def"))
    assert file_sha256(f, "gunzip") == sha(b"abcdef")
    whole = gzip.compress(b"x" * 10_000 + bytes(range(256)))
    f.write_bytes(whole[: len(whole) - 5])
    with pytest.raises(ChecksumError, match="m.gz"):
        file_sha256(f, "gunzip")
    f.write_bytes(b"not gzip at all")
    with pytest.raises(ChecksumError, match="gzip"):
        file_sha256(f, "gunzip")


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 6000), max_size=6))
def test_payload_hash_independent_of_chunking(payload, cuts):
    # Property: however the stream is split (as network reads split it), the digest is
    # that of the whole payload, for both checksum kinds.
    for kind, stream in (("raw", payload), ("gunzip", gzip.compress(payload))):
        bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
        h = _store._PayloadHasher(kind)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            h.update(stream[lo:hi])
        assert h.hexdigest() == sha(payload)


# --------------------------------------------------------------------------- path / ensure


def test_path_uses_verified_mirror_in_place(toy):
    got = path("toy", mirror=toy["mirror"])
    assert got == toy["mirror"] / "toyfolder"
    assert locate("toy", "sub/b.txt", mirror=toy["mirror"]) == ("mirror", got / "sub/b.txt")
    assert not toy["cache"].exists()  # nothing copied


def test_path_env_mirror_and_case_insensitive_name(toy):
    toy["monkeypatch"].setenv("WORKBENCH_MIRROR", str(toy["mirror"]))
    assert path("TOY") == toy["mirror"] / "toyfolder"


def test_path_absent_says_how_to_fetch(toy):
    with pytest.raises(DatasetNotFoundError) as info:
        path("toy")
    msg = str(info.value)
    assert "workbench data fetch toy" in msg and "WORKBENCH_MIRROR" in msg
    assert isinstance(info.value, FileNotFoundError)


def test_corrupt_mirror_file_is_named_and_never_used(toy):
    bad = toy["mirror"] / "toyfolder" / "sub" / "b.txt"
    bad.write_bytes(b"hello, world!\n")
    with pytest.raises(ChecksumError, match=r"sub/b\.txt"):
        path("toy", mirror=toy["mirror"])
    # Other files of the set are still individually usable.
    assert path("toy", "a.bin", mirror=toy["mirror"]).is_file()


def test_corrupt_cache_falls_back_to_good_mirror(toy):
    fetch("toy", mirror=toy["mirror"], progress=False)
    bad = toy["cache"] / "toyfolder" / "a.bin"
    data = bad.read_bytes()
    bad.write_bytes(bytes([data[0] ^ 0xFF]) + data[1:])  # same size, one byte changed
    assert locate("toy", mirror=toy["mirror"])[0] == "mirror"
    with pytest.raises(ChecksumError, match="a.bin"):
        path("toy")  # no mirror: the corrupt cache copy is refused


def test_verified_memo_sees_later_corruption(toy):
    folder = fetch("toy", mirror=toy["mirror"], progress=False)
    assert path("toy") == folder  # verified and remembered
    f = folder / "a.bin"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    st_before = f.stat()
    f.write_bytes(bytes(data))
    os.utime(f, ns=(st_before.st_atime_ns, st_before.st_mtime_ns + 1_000_000))
    with pytest.raises(ChecksumError, match="a.bin"):
        path("toy")


def test_partial_cache_is_not_used(toy):
    folder = fetch("toy", mirror=toy["mirror"], progress=False)
    (folder / "c.idx.gz").unlink()
    with pytest.raises(DatasetNotFoundError):
        path("toy")
    assert path("toy", "a.bin") == folder / "a.bin"


def test_ensure_downloads_on_request(toy, server):
    root, url = server
    shutil.copytree(toy["mirror"] / "toyfolder", root / "up")
    set_sources(toy, url + "up/")
    with pytest.raises(DatasetNotFoundError):
        ensure("toy")
    folder = ensure("toy", download=True, progress=False)
    assert folder == toy["cache"] / "toyfolder"
    assert ensure("toy") == folder
    # A given mirror is used in place, not copied.
    assert ensure("toy", download=True, cache=toy["cache"] / "other", mirror=toy["mirror"]) == toy["mirror"] / "toyfolder"


# --------------------------------------------------------------------------- fetch


def test_fetch_from_mirror_folder(toy):
    folder = fetch("toy", mirror=toy["mirror"], progress=False)
    assert folder == toy["cache"] / "toyfolder"
    for rel in TOY_FILES:
        assert (folder / rel).read_bytes() == (toy["mirror"] / "toyfolder" / rel).read_bytes()
        umask = os.umask(0o022)
        os.umask(umask)
        assert stat.S_IMODE((folder / rel).stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    assert leftovers(folder) == []
    assert path("toy") == folder
    assert verify("toy").ok


def test_fetch_env_mirror_and_skip_existing(toy, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MIRROR", str(toy["mirror"]))
    folder = fetch("toy", progress=False)
    mtimes = {rel: (folder / rel).stat().st_mtime_ns for rel in TOY_FILES}
    # Break the mirror: a second fetch must not touch verified files.
    shutil.rmtree(toy["mirror"] / "toyfolder")
    (toy["mirror"] / "toyfolder").mkdir()
    assert fetch("toy", progress=False) == folder
    assert {rel: (folder / rel).stat().st_mtime_ns for rel in TOY_FILES} == mtimes
    with pytest.raises(DownloadError, match="a.bin"):
        fetch("toy", progress=False, force=True)
    assert (folder / "a.bin").is_file()  # the good copy survives a failed forced fetch


def test_fetch_over_http_from_mirror_url(toy, server):
    root, url = server
    shutil.copytree(toy["mirror"], root, dirs_exist_ok=True)
    folder = fetch("toy", mirror=url, progress=False, workers=2)
    assert verify("toy").ok and path("toy") == folder


def test_fetch_upstream_sources_with_failover(toy, server):
    root, url = server
    shutil.copytree(toy["mirror"] / "toyfolder", root / "good")
    set_sources(toy, url + "missing/", url + "good/")  # first source answers 404
    toy["monkeypatch"].setenv("WORKBENCH_MIRROR", str(toy["cache"] / "nowhere"))
    folder = fetch("toy", upstream=True, progress=False)
    assert verify("toy").ok and path("toy") == folder


def test_fetch_corrupt_download_is_reported_and_discarded(toy, server):
    root, url = server
    shutil.copytree(toy["mirror"], root, dirs_exist_ok=True)
    (root / "toyfolder" / "sub" / "b.txt").write_bytes(b"HELLO, WORLD\n")
    with pytest.raises(DownloadError, match=r"sub/b\.txt.*sha256 mismatch"):
        fetch("toy", mirror=url, progress=False)
    folder = toy["cache"] / "toyfolder"
    assert not (folder / "sub" / "b.txt").exists()
    assert (folder / "a.bin").is_file()  # intact files are kept
    assert leftovers(folder) == []


def test_fetch_partial_download_is_never_used(toy, server):
    root, url = server
    shutil.copytree(toy["mirror"] / "toyfolder", root / "toyfolder")
    set_sources(toy, url + "partial/toyfolder/")
    with pytest.raises(DownloadError) as info:
        fetch("toy", upstream=True, progress=False)
    msg = str(info.value)
    assert "a.bin" in msg and "c.idx.gz" in msg
    folder = toy["cache"] / "toyfolder"
    assert not any((folder / rel).exists() for rel in TOY_FILES)
    assert leftovers(folder) == []
    with pytest.raises(DatasetNotFoundError):
        path("toy")


def test_fetch_truncated_gzip_source(toy):
    gz = toy["mirror"] / "toyfolder" / "c.idx.gz"
    gz.write_bytes(gz.read_bytes()[:-6])
    with pytest.raises(DownloadError, match=r"c\.idx\.gz"):
        fetch("toy", mirror=toy["mirror"], progress=False)
    assert not (toy["cache"] / "toyfolder" / "c.idx.gz").exists()


def test_fetch_real_dataset_from_mirror(mirror, data_file, tmp_path, monkeypatch):
    data_file("nwb/A8604-211122.nwb")
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path / "cache"))
    folder = fetch("nwb_a8604", mirror=mirror, progress=False)
    assert (folder / "A8604-211122.nwb").read_bytes() == (mirror / "nwb" / "A8604-211122.nwb").read_bytes()
    assert locate("nwb_a8604")[0] == "cache"


# --------------------------------------------------------------------------- verify


def test_verify_detects_corrupted_copy_of_real_file(data_file, tmp_path):
    src = data_file("nwb/A8604-211122.nwb")
    root = tmp_path / "copy"
    (root / "nwb").mkdir(parents=True)
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    (root / "nwb" / "A8604-211122.nwb").write_bytes(bytes(data))
    report = verify("nwb_a8604", root=root)
    assert not report.ok and report.corrupt[0][0] == "A8604-211122.nwb"
    assert "A8604-211122.nwb" in report.summary()
    shutil.copyfile(src, root / "nwb" / "A8604-211122.nwb")
    assert verify("nwb_a8604", root=root).ok


def test_verify_mnist_checks_decompressed_payload(data_file, tmp_path):
    src = data_file("mnist/t10k-labels-idx1-ubyte.gz")
    root = tmp_path / "copy"
    (root / "mnist").mkdir(parents=True)
    payload = gzip.decompress(src.read_bytes())
    # Re-gzipped identical payload: different bytes, still valid.
    (root / "mnist" / src.name).write_bytes(gzip.compress(payload, compresslevel=1))
    report = verify("mnist", root=root)
    assert report.n_ok == 1 and len(report.missing) == 3 and not report.corrupt
    # One label changed: detected although the gzip is well formed.
    bad = bytearray(payload)
    bad[100] = (bad[100] + 1) % 10
    (root / "mnist" / src.name).write_bytes(gzip.compress(bytes(bad)))
    report = verify("mnist", root=root)
    assert [p for p, _ in report.corrupt] == [src.name]


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs(toy):
    with pytest.raises(ValueError, match="known data sets: .*mnist"):
        path("no_such_set")
    with pytest.raises(TypeError, match="name"):
        path(3)
    with pytest.raises(ValueError, match="not part of data set"):
        path("toy", "nope.bin", mirror=toy["mirror"])
    with pytest.raises(TypeError, match="file"):
        path("toy", 5)
    with pytest.raises(ValueError, match="workers"):
        fetch("toy", mirror=toy["mirror"], workers=0)
    with pytest.raises(TypeError, match="workers"):
        fetch("toy", mirror=toy["mirror"], workers=1.5)
    with pytest.raises(ValueError, match="timeout"):
        fetch("toy", mirror=toy["mirror"], timeout=0)
    with pytest.raises(FileNotFoundError, match="mirror folder not found"):
        fetch("toy", mirror=toy["mirror"] / "absent")
    with pytest.raises(ValueError, match="exclude"):
        fetch("toy", mirror=toy["mirror"], upstream=True)
    with pytest.raises(TypeError, match="mirror"):
        path("toy", mirror=42)
