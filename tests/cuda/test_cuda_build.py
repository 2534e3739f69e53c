"""Every CUDA kernel compiles for sm_80 and sm_90, in float and double, with no GPU.

The sources compiled are exactly what NVRTC receives at run time (``kernel_source`` with
``common.cuh`` inlined, the same ``NVRTC_OPTIONS``), so a kernel that would fail to build on
a device fails here.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from workbench.cuda._ops import MAX_T
from workbench.cuda._runtime import NVRTC_OPTIONS, kernel_source, source_dir

CU_FILES = sorted(p.stem for p in source_dir().glob("*.cu"))
FAMILIES = {"coding", "conv", "decision", "filters", "fire", "inhibit", "pool", "stdp", "wta"}


def test_every_op_family_has_a_kernel_file():
    assert FAMILIES <= set(CU_FILES)


def _compile(name: str, real: str, steps: int, tmp_path: Path) -> None:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not found on PATH: cannot check that the CUDA kernels compile")
    src = tmp_path / f"{name}.cu"
    src.write_text(kernel_source(name))
    cmd = [
        nvcc, *NVRTC_OPTIONS, f"-DWB_REAL={real}", f"-DWB_T={steps}", "--fatbin",
        "-gencode", "arch=compute_80,code=sm_80", "-gencode", "arch=compute_90,code=sm_90",
        "-o", str(tmp_path / f"{name}.fatbin"), str(src),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / f"{name}.fatbin").stat().st_size > 0


@pytest.mark.parametrize("real", ["float", "double"])
@pytest.mark.parametrize("name", CU_FILES)
def test_kernel_compiles_for_sm80_and_sm90(name, real, tmp_path: Path):
    _compile(name, real, 15, tmp_path)


@pytest.mark.parametrize("steps", [1, MAX_T])
def test_conv_compiles_at_the_extreme_step_counts(steps, tmp_path: Path):
    # WB_T is compile-time: the smallest and the largest T the host lets through
    _compile("conv", "float", steps, tmp_path)


def test_products_are_not_contracted_into_fma():
    # parity with the CPU core (plain C, no FMA) relies on it; see _runtime._module
    assert "--fmad=false" in NVRTC_OPTIONS


def test_a_broken_kernel_fails_to_compile(tmp_path: Path):
    # The check above can fail: a syntax error is reported by nvcc.
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not found on PATH")
    src = tmp_path / "broken.cu"
    src.write_text('extern "C" __global__ void k(float* x) { x[0] = undefined_name; }\n')
    proc = subprocess.run([nvcc, "--fatbin", "-o", str(tmp_path / "b.fatbin"), str(src)], capture_output=True)
    assert proc.returncode != 0
