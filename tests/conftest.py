"""Shared fixtures.

Data sets come from a mirror folder: ``WORKBENCH_MIRROR`` if set, else
``../shared/datasets`` beside the checkout (where CI has them).  A test whose data is
missing skips with a reason naming the data set.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def pytest_runtest_setup(item):
    # @pytest.mark.requires("rsatoolbox"): skip that test (not its whole file) without the
    # module, so the self-contained tests beside it still run.
    for marker in item.iter_markers(name="requires"):
        for module in marker.args:
            if not _importable(module):
                pytest.skip(f"{module} not installed")


def mirror_dir() -> Path:
    env = os.environ.get("WORKBENCH_MIRROR")
    return Path(env) if env else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The data-set mirror folder (skips when absent)."""
    path = mirror_dir()
    if not path.is_dir():
        pytest.skip(f"data mirror not found at {path} (set WORKBENCH_MIRROR)")
    return path


@pytest.fixture(scope="session")
def data_file():
    """``data_file("mnist/t10k-images-idx3-ubyte.gz")``: path inside the mirror, or skip.

    The skip reason names the missing file, so a run without the data says what it lacks.
    """

    def _get(relative: str) -> Path:
        path = mirror_dir() / relative
        if not path.exists():
            pytest.skip(f"data set file missing: {path} (set WORKBENCH_MIRROR to the data mirror)")
        return path

    return _get


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True, scope="session")
def _mirror_env():
    # Tests point the data layer at the mirror, as CI does.
    os.environ.setdefault("WORKBENCH_MIRROR", str(mirror_dir()))
    os.environ.setdefault("MPLBACKEND", "Agg")
    yield
