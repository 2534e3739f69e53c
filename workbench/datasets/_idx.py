"""A strict reader for the IDX format of MNIST.

Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the data in C
order, big-endian.  Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

__all__ = ["read_idx", "parse_idx"]

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes, *, name: str = "IDX data", ndim: int | None = None) -> np.ndarray:
    """Decode IDX bytes into an array (native byte order), checking header and size.

    Parameters
    ----------
    data : bytes
        The (decompressed) file contents.
    name : str
        Used in error messages (e.g. the file name).
    ndim : int, optional
        Required number of dimensions.

    Returns
    -------
    numpy.ndarray
        Shape as declared in the header; dtype from the type code (native order).

    Raises
    ------
    TypeError
        ``data`` is not bytes.
    ValueError
        Bad magic number, unknown type code, wrong ``ndim``, or a payload whose length
        differs from the declared sizes (truncated or padded file).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: bad IDX magic number {data[:4].hex()} (must start with 0000)")
    code, nd = data[2], data[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02x}")
    if nd == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions")
    if ndim is not None and nd != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), header declares {nd}")
    header = 4 + 4 * nd
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header")
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=nd, offset=4))
    dtype = _IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(data) - header
    if have != expected:
        raise ValueError(
            f"{name}: payload is {have} bytes but header {shape} needs {expected} "
            f"({'truncated' if have < expected else 'trailing bytes'})"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file, gzip-compressed (detected by its magic bytes) or not.

    See :func:`parse_idx` for the checks made and the errors raised.
    """
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{os.fspath(path)}: corrupt gzip stream ({exc})") from None
    return parse_idx(raw, name=os.fspath(path), ndim=ndim)
