"""The strict IDX reader against a plain reference writer."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.datasets import parse_idx, read_idx

CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
         np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def write_idx(arr: np.ndarray, dtype) -> bytes:
    """Reference writer, straight from the format description."""
    dtype = np.dtype(dtype)
    header = bytes([0, 0, CODES[dtype], arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape)
    return header + arr.astype(dtype).tobytes(order="C")


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1), (3, 2), (5, 4, 3), (2, 28, 28)])
def test_roundtrip_against_reference_writer(dtype, shape, rng):
    arr = rng.integers(-100, 100, shape) if dtype.kind != "u" else rng.integers(0, 256, shape)
    arr = arr.astype(dtype)
    got = parse_idx(write_idx(arr, dtype))
    assert got.shape == shape
    assert got.dtype == dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, arr)


def test_all_zero_and_empty_axis():
    np.testing.assert_array_equal(parse_idx(write_idx(np.zeros((4, 3), np.uint8), np.uint8)), 0)
    assert parse_idx(write_idx(np.zeros((0, 28, 28), np.uint8), np.uint8)).shape == (0, 28, 28)


@settings(max_examples=50, deadline=None)
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from(list(CODES)))
def test_roundtrip_property(shape, seed, dtype):
    arr = np.random.default_rng(seed).integers(-128, 128, shape).astype(dtype)
    np.testing.assert_array_equal(parse_idx(write_idx(arr, dtype)), arr)


def test_read_idx_plain_and_gzip(tmp_path, rng):
    arr = rng.integers(0, 256, (7, 5, 3)).astype(np.uint8)
    raw = write_idx(arr, np.uint8)
    (tmp_path / "a.idx").write_bytes(raw)
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx", ndim=3), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), arr)
    (tmp_path / "b.gz").write_bytes(gzip.compress(raw)[:-9])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(tmp_path / "b.gz")


def test_bad_idx_inputs():
    good = write_idx(np.arange(6, dtype=np.uint8).reshape(2, 3), np.uint8)
    with pytest.raises(TypeError, match="data"):
        parse_idx("not bytes")
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\x00\x00")
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match="type code"):
        parse_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(ValueError, match="0 dimensions"):
        parse_idx(b"\x00\x00\x08\x00")
    with pytest.raises(ValueError, match="expected 3 dimension"):
        parse_idx(good, ndim=3)
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="trailing"):
        parse_idx(good + b"\x00")
    with pytest.raises(ValueError, match="header"):
        parse_idx(good[:6])
