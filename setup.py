"""Build the Cython kernels in ``core_cython/`` into ``workbench._kernels``.

Every ``core_cython/<name>.pyx`` becomes the extension ``workbench._kernels.<name>``;
adding a kernel needs no change here.  ``WORKBENCH_EXT=name1,name2`` builds only those
(handy while developing one kernel: ``WORKBENCH_EXT=wta python setup.py build_ext -i``).
OpenMP is used when the compiler accepts ``-fopenmp``.
"""

import os
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_py import build_py as _build_py

HERE = Path(__file__).parent
only = {n for n in os.environ.get("WORKBENCH_EXT", "").split(",") if n}

if sys.platform == "win32":
    compile_args, link_args = ["/O2", "/openmp"], []
else:
    # No -ffast-math: results must be bit-reproducible for ties and parity tests.
    compile_args, link_args = ["-O3", "-fopenmp"], ["-fopenmp"]

extensions = [
    Extension(
        f"workbench._kernels.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )
    for pyx in sorted((HERE / "core_cython").glob("*.pyx"))
    if not only or pyx.stem in only
]


# Files outside the package that wheels must carry: (source folder, glob, package folder).
#   - the data-set registry, edited in the top-level ``datasets/`` folder;
#   - the CUDA sources, compiled at run time by NVRTC (``workbench.cuda``).
# An editable install reads both from the checkout directly.
SHIPPED = [
    ("datasets", "*.toml", ("workbench", "datasets", "registry")),
    ("cuda", "*.cu", ("workbench", "cuda", "kernels")),
    ("cuda", "*.cuh", ("workbench", "cuda", "kernels")),
    ("analyses", "*.py", ("workbench", "_analyses")),
]


class build_py(_build_py):
    """Also copy the :data:`SHIPPED` files into the built package."""

    def _shipped(self):
        for folder, pattern, target in SHIPPED:
            for src in sorted((HERE / folder).glob(pattern)):
                yield src, Path(self.build_lib).joinpath(*target) / src.name

    def run(self):
        super().run()
        for src, dst in self._shipped():
            self.mkpath(str(dst.parent))
            self.copy_file(str(src), str(dst))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [str(dst) for _, dst in self._shipped()]


setup(
    cmdclass={"build_py": build_py},
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
