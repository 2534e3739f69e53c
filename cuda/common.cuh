// Shared definitions for workbench's CUDA kernels (compiled at run time by NVRTC via CuPy).
// `real_t` is the floating type of potentials and weights; the host chooses it with
// -DWB_REAL=float or -DWB_REAL=double.  Kernels use 64-bit index arithmetic where a
// product of dimensions can exceed 2^31 (batch 1024 x 30 x 28 x 28 x 15 does not, but
// larger images do).
#pragma once
#ifndef WB_REAL
#define WB_REAL float
#endif
typedef WB_REAL real_t;
typedef long long idx_t;
