"""Readers for the two on-disk formats of the MNIST family: IDX (optionally gzipped) and npz.

Both return uint8 arrays plus the SHA-256 of the decoded content, so a file that was
recompressed can still be matched against the content it claims to hold.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from grader.atomic import atomic_open
from grader.data.errors import DataError

IDX_UBYTE = 0x08
_HEADER = struct.Struct(">I")


def file_digests(path: Path) -> dict[str, str]:
    """MD5 and SHA-256 of a file as it lies on disk (official lists use either)."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest()}


def read_idx(path: Path) -> tuple[np.ndarray, str]:
    """Decode one IDX file (``.gz`` or raw) into a uint8 array and its content SHA-256.

    The header states the array's shape; a file whose payload is shorter or longer than that
    shape is refused, which is what a truncated download looks like.
    """
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}); it may be truncated.") from error
    if len(raw) < 4:
        raise DataError(f"{path} is too short to be an IDX file ({len(raw)} bytes).")
    magic = _HEADER.unpack_from(raw, 0)[0]
    dtype, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 != 0 or dtype != IDX_UBYTE or not 1 <= ndim <= 4:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (magic number {magic:#010x}).")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"{path} ends inside its IDX header; it is truncated.")
    shape = tuple(_HEADER.unpack_from(raw, 4 + 4 * i)[0] for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(
            f"{path} holds {len(raw) - header_size:,} bytes of data but its header promises "
            f"{expected - header_size:,} for shape {shape}; the file is truncated or corrupt."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)
    return array, hashlib.sha256(raw).hexdigest()


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_npz(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """Read a Keras-style ``.npz`` (x_train, y_train, x_test, y_test) without unpickling anything.

    The content SHA-256 covers the four arrays' bytes in that key order.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path} lacks the arrays {', '.join(missing)}.")
            arrays = {key: np.asarray(archive[key]) for key in NPZ_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path} is not a readable .npz archive ({error}); it may be truncated.") from error
    digest = hashlib.sha256()
    for key in NPZ_KEYS:
        if arrays[key].dtype != np.uint8:
            raise DataError(f"{path}: {key} has dtype {arrays[key].dtype}, expected uint8.")
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return arrays, digest.hexdigest()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the four arrays atomically (temporary file, then rename) so a reader never sees half."""
    with atomic_open(path) as handle:
        # The keys are NPZ_KEYS, never savez's own allow_pickle, which is what the stub fears.
        np.savez_compressed(handle, **{key: arrays[key] for key in NPZ_KEYS})  # type: ignore[arg-type]
