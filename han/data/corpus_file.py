"""The tokenised corpus cache's file: an uncompressed .npz, written incrementally, memory-mapped.

Format 2 (issue #25) keeps format 1's members (`tokens`, `sentence_lengths`, `doc_sentences`:
int32; `ids`, `labels`, `source_split`, `groups`, `lexicon`: UTF-8 JSON as uint8; `counts`),
so older code still reads it, and adds `format`. What changed is how it is written and read:

- written as it is built: the large arrays go to scratch files chunk by chunk (no array of the
  whole corpus is ever held), then each is copied into a stored (uncompressed) zip member
  behind its .npy header; members carry a fixed timestamp, so the same corpus gives the same
  bytes however it was built;
- read memory-mapped: a stored member's data are contiguous in the file, so the large arrays
  are `np.memmap`s at their offset and only the pages a run touches are read.

A file without `format` (format 1) is rebuilt by the caller, with a log line that says so.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import struct
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from han.io import atomic_open, scratch_name

FORMAT = 2
ARRAYS = ("tokens", "sentence_lengths", "doc_sentences")  # int32, memory-mapped on read
_STAMP = (1980, 1, 1, 0, 0, 0)  # a fixed member timestamp: same corpus, same bytes
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local file header (30 bytes)


class OldFormat(ValueError):
    """A cache file of an older format (rebuilt, not read)."""


class ArraySink:
    """An int32 array appended to in pieces, kept in a scratch file beside the cache."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = Path(folder) / scratch_name(name)
        self.handle: BinaryIO = self.path.open("wb")
        self.size = 0

    def append(self, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=np.int32)
        self.handle.write(values.data)
        self.size += len(values)

    def close(self) -> None:
        self.handle.close()

    def remove(self) -> None:
        self.handle.close()
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def array_sinks(folder: Path, stem: str) -> Iterator[dict[str, ArraySink]]:
    """One `ArraySink` per large array; their scratch files are removed whatever happens."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    sinks = {name: ArraySink(folder, f"{stem}.{name}") for name in ARRAYS}
    try:
        yield sinks
    finally:
        for sink in sinks.values():
            sink.remove()


def _member(archive: zipfile.ZipFile, name: str, write) -> None:
    info = zipfile.ZipInfo(f"{name}.npy", date_time=_STAMP)
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w", force_zip64=True) as member:
        write(member)


def _npy_header(member, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": shape}
    np.lib.format.write_array_header_1_0(member, header)


def write(path: Path, arrays: Mapping[str, np.ndarray | ArraySink], strings: Mapping[str, list],
          counts: tuple[int, int]) -> None:
    """The corpus file at `path`, atomically. `arrays` are in-memory arrays or sinks."""
    with atomic_open(path, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
        for name in ARRAYS:
            value = arrays[name]
            if isinstance(value, ArraySink):
                value.close()

                def copy(member, sink=value):
                    _npy_header(member, np.dtype(np.int32), (sink.size,))
                    with sink.path.open("rb") as source:
                        shutil.copyfileobj(source, member, 1 << 22)

                _member(archive, name, copy)
            else:
                array = np.ascontiguousarray(value, dtype=np.int32)
                _member(archive, name, lambda m, a=array: (_npy_header(m, a.dtype, a.shape),
                                                           m.write(a.data)))
        for name, values in strings.items():
            encoded = np.frombuffer(json.dumps(list(values), ensure_ascii=False).encode(),
                                    dtype=np.uint8)
            _member(archive, name, lambda m, a=encoded: np.lib.format.write_array(m, a))
        for name, value in (("counts", np.array(counts, dtype=np.int64)),
                            ("format", np.array([FORMAT], dtype=np.int64))):
            _member(archive, name, lambda m, a=value: np.lib.format.write_array(m, a))


def _mapped(path: Path, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """A stored member's array as a read-only memory map (a compressed one is read instead)."""
    info = archive.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        with archive.open(info) as member:
            return np.lib.format.read_array(member)
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        fields = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
        if fields[0] != b"PK\x03\x04":
            raise ValueError(f"member {name} has no local header")
        handle.seek(info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1])
        version = np.lib.format.read_magic(handle)
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0(handle) if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0(handle))
        offset = handle.tell()
    count = int(np.prod(shape))
    if fortran or len(shape) != 1:
        raise ValueError(f"member {name} is not a flat array")
    if offset + count * dtype.itemsize > path.stat().st_size:
        raise ValueError(f"member {name} runs past the end of the file")
    if count == 0:
        return np.zeros(0, dtype)
    return np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape))


def read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, list], tuple[int, int]]:
    """The large arrays memory-mapped, the string fields and the counts; OldFormat for a
    file of format 1."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "format.npy" not in names:
            raise OldFormat("format 1 (arrays read whole into memory)")
        with archive.open("format.npy") as member:
            found = int(np.lib.format.read_array(member)[0])
        if found != FORMAT:
            raise OldFormat(f"format {found}")
        arrays = {name: _mapped(path, archive, name) for name in ARRAYS}
        strings = {}
        for name in sorted(names - {f"{a}.npy" for a in ARRAYS} - {"counts.npy", "format.npy"}):
            with archive.open(name) as member:
                strings[name[:-4]] = json.loads(np.lib.format.read_array(member).tobytes())
        with archive.open("counts.npy") as member:
            truncated, non_utf8 = (int(v) for v in np.lib.format.read_array(member))
    return arrays, strings, (truncated, non_utf8)

