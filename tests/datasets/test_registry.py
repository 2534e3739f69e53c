"""The registry: well formed, shipped intact, and consistent with the mirror."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.datasets import dataset_names, file_sha256, get_dataset, load_registry, registry_dir
from workbench.datasets import _registry

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {
    "mnist": 4,
    "caltech_face_motor": 1270,
    "eth80_cup_dog": 820,
    "kriegeskorte2008_92images": 4,
    "zhang_desimone_7object_IT": 132,
    "nwb_a8604": 1,
}


def test_registry_lists_the_data_sets():
    reg = load_registry()
    assert {name: len(ds.files) for name, ds in reg.items()} == EXPECTED
    assert dataset_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entry_is_complete(name):
    ds = get_dataset(name)
    assert ds.title and ds.licence and ds.citation and ds.homepage.startswith("http")
    assert ds.sources and all(s.startswith(("https://", "http://")) and s.endswith("/") for s in ds.sources)
    paths = [f.path for f in ds.files]
    assert len(set(paths)) == len(paths)
    assert all(len(f.sha256) == 64 for f in ds.files)


def test_mnist_checksums_are_of_decompressed_payload():
    ds = get_dataset("mnist")
    assert {f.checksum for f in ds.files} == {"gunzip"}
    assert ds.file("train-images-idx3-ubyte.gz").sha256 == (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    )


def test_packaged_registry_equals_source_folder():
    # From a wheel the packaged copy is read; it must not be stale.  From a checkout
    # (editable install) the source folder itself is read.
    src = REPO / "datasets"
    if not any(src.glob("*.toml")):
        pytest.skip(f"no source registry folder at {src}")
    used = registry_dir()
    assert sorted(p.name for p in used.glob("*.toml")) == sorted(p.name for p in src.glob("*.toml"))
    for p in src.glob("*.toml"):
        assert (used / p.name).read_bytes() == p.read_bytes(), p.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registry_matches_mirror(name, mirror):
    ds = get_dataset(name)
    missing, wrong = [], []
    for entry in ds.files:
        f = mirror / ds.folder / entry.path
        if not f.exists():
            missing.append(f"{ds.folder}/{entry.path}")
        elif file_sha256(f, entry.checksum) != entry.sha256:
            wrong.append(f"{ds.folder}/{entry.path}")
    assert not wrong, f"sha256 mismatch: {wrong[:10]}"
    if missing:
        pytest.skip(f"mirror lacks {len(missing)} file(s) of {name}: {', '.join(missing[:5])}")


def test_registry_covers_every_mirror_file(mirror):
    sums = mirror / "SHA256SUMS"
    if not sums.exists():
        pytest.skip(f"data set file missing: {sums}")
    listed = {}
    for line in sums.read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        listed[rel.removeprefix("./")] = digest
    registered = {f"{ds.folder}/{f.path}": f for ds in load_registry().values() for f in ds.files}
    assert set(listed) == set(registered)
    for rel, digest in listed.items():
        entry = registered[rel]
        if entry.checksum == "raw":
            assert entry.sha256 == digest, rel
        else:  # MNIST: the mirror's .gz bytes were re-gzipped, so they differ from the payload
            assert entry.sha256 != digest, rel


def test_unknown_name_lists_known_data_sets():
    with pytest.raises(ValueError) as info:
        get_dataset("imagenet")
    for name in EXPECTED:
        assert name in str(info.value)
    with pytest.raises(TypeError):
        get_dataset(None)
    with pytest.raises(ValueError, match="not part of data set"):
        get_dataset("mnist").file("x.gz")


def test_case_insensitive_lookup():
    assert get_dataset("ZHANG_DESIMONE_7OBJECT_it").name == "zhang_desimone_7object_IT"


def _write(tmp_path, text):
    p = tmp_path / "x.toml"
    p.write_text(text)
    return p


def test_malformed_registry_files_are_rejected(tmp_path):
    good_sha = hashlib.sha256(b"").hexdigest()
    ok = _registry._parse(_write(tmp_path, f'name = "x"\nfiles = [{{ path = "a", sha256 = "{good_sha}" }}]\n'))
    assert ok.folder == "x" and ok.files[0].checksum == "raw"
    with pytest.raises(RuntimeError, match="malformed"):
        _registry._parse(_write(tmp_path, 'name = "x"\n'))
    with pytest.raises(ValueError, match="malformed sha256"):
        _registry._parse(_write(tmp_path, 'name = "x"\nfiles = [{ path = "a", sha256 = "abc" }]\n'))
    with pytest.raises(ValueError, match="unsafe path"):
        _registry._parse(_write(tmp_path, f'name = "x"\nfiles = [{{ path = "../a", sha256 = "{good_sha}" }}]\n'))
    with pytest.raises(ValueError, match="checksum kind"):
        _registry._parse(
            _write(tmp_path, f'name = "x"\nfiles = [{{ path = "a", sha256 = "{good_sha}", checksum = "md5" }}]\n')
        )


def _run_in(site, code: str, cwd) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True, text=True, cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_registry_found_in_wheel_layout(tmp_path):
    # An installed wheel: workbench/datasets/registry/*.toml inside site-packages, and a
    # foreign top-level ``datasets`` package beside it (e.g. Hugging Face's) that must
    # not be mistaken for the checkout's registry folder.
    import workbench

    pkg = Path(workbench.__file__).resolve().parent
    site = tmp_path / "site"
    (site / "workbench").mkdir(parents=True)
    for name in ("__init__.py", "_warnings.py", "_validation.py"):
        shutil.copyfile(pkg / name, site / "workbench" / name)
    shutil.copytree(pkg / "datasets", site / "workbench" / "datasets",
                    ignore=shutil.ignore_patterns("__pycache__", "registry"))
    (site / "workbench" / "datasets" / "registry").mkdir(exist_ok=True)
    for toml in registry_dir().glob("*.toml"):
        shutil.copyfile(toml, site / "workbench" / "datasets" / "registry" / toml.name)
    (site / "datasets").mkdir()
    (site / "datasets" / "__init__.py").write_text("")
    out = _run_in(site, "import workbench.datasets as d; print(d.registry_dir()); print(len(d.dataset_names()))",
                  tmp_path)
    where, count = out.splitlines()
    assert Path(where) == site / "workbench" / "datasets" / "registry" and int(count) == len(EXPECTED)
    # Without the packaged copy and without a checkout: a clear error, not an empty registry.
    shutil.rmtree(site / "workbench" / "datasets" / "registry")
    out = _run_in(site, "import workbench.datasets as d\ntry:\n d.dataset_names()\nexcept RuntimeError as e: print(e)",
                  tmp_path)
    assert "registry not found" in out



@pytest.mark.slow
def test_setup_build_py_ships_registry(tmp_path):
    if not (REPO / "setup.py").exists() or not any((REPO / "datasets").glob("*.toml")):
        pytest.skip("not a source checkout")
    env = {**os.environ, "WORKBENCH_EXT": "-none-"}  # build no Cython kernel
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=REPO, capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    shipped = tmp_path / "lib" / "workbench" / "datasets" / "registry"
    assert sorted(p.name for p in shipped.glob("*.toml")) == sorted(p.name for p in (REPO / "datasets").glob("*.toml"))
