"""PyTorch's zip archive reader and writer (``torch.PyTorchFileReader`` / ``torch.PyTorchFileWriter``, from
``torch._C``): the records of a ``torch.save`` checkpoint or TorchScript archive, read or written one by one.
Records are stored uncompressed with their data on 64-byte boundaries, as ``torch.save`` writes them."""
import os
import sys
import zipfile

import numpy

from . import _dtype
from ._tensor import _wrap
from .storage import TypedStorage, UntypedStorage
from .serialization import _record_data_start, _serialization_id, _Stream, _write_record

__all__ = ["PyTorchFileReader", "PyTorchFileWriter"]

_MISSING = ("PytorchStreamReader failed locating file {}: file not found. This is an internal miniz error. If you "
            "are seeing this error, there is a high likelihood that your checkpoint file is corrupted. This can "
            "happen if the checkpoint was not saved properly, was transferred incorrectly, or the file was modified "
            "after saving.")


def _open(file, mode):
    if isinstance(file, (str, os.PathLike)):
        try:
            return open(file, mode), True
        except OSError as error:
            raise RuntimeError(f"open file failed because of errno {error.errno} on fopen: {error.strerror}, file "
                               f"path: {os.fsdecode(file)}") from None
    return file, False


class PyTorchFileReader:
    """The records of a zip archive in PyTorch's format, named without the archive's top-level folder."""

    def __init__(self, file):
        self._file, self._owned = _open(file, "rb")
        try:
            self._zip = zipfile.ZipFile(self._file)
        except zipfile.BadZipFile as error:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {error}") from None
        names = self._zip.namelist()
        self._prefix = names[0].split("/", 1)[0] + "/" if names and "/" in names[0] else ""

    def _info(self, name):
        try:
            return self._zip.getinfo(self._prefix + name)
        except KeyError:
            raise RuntimeError(_MISSING.format(name)) from None

    def get_all_records(self):
        """The records' names, in the archive's order."""
        return [name[len(self._prefix):] for name in self._zip.namelist()]

    def has_record(self, name):
        """Whether the archive holds record ``name``."""
        return self._prefix + name in self._zip.NameToInfo

    def get_record(self, name):
        """Record ``name``'s bytes."""
        return self._zip.read(self._info(name))

    def get_record_size(self, name):
        """Record ``name``'s size in bytes."""
        return self._info(name).file_size

    def get_record_header_offset(self, name):
        """Where record ``name``'s local header starts in the file."""
        return self._info(name).header_offset

    def get_record_offset(self, name):
        """Where record ``name``'s data starts in the file."""
        return _record_data_start(self._file, self._info(name))

    def get_storage_from_record(self, name, numel, dtype):
        """An empty tensor of ``dtype`` whose storage holds record ``name``'s first ``numel`` elements."""
        dtype = _dtype.as_dtype(dtype)
        data = numpy.frombuffer(bytearray(self.get_record(name)), dtype.numpy, count=numel)
        return _wrap(data[:0])

    def serialization_id(self):
        """The id written with the archive (empty if it has none)."""
        if not self.has_record(".data/serialization_id"):
            return ""
        return self.get_record(".data/serialization_id").decode("ascii")

    def __del__(self):
        if getattr(self, "_owned", False):
            self._file.close()


class PyTorchFileWriter:
    """Writes records into a zip archive in PyTorch's format; ``write_end_of_file`` adds the version, byte order
    and serialization id records and closes it."""

    def __init__(self, file, compute_crc32=True, storage_alignment=64):
        if storage_alignment != 64:
            raise RuntimeError(f"storage_alignment {storage_alignment} is not supported: ember aligns record data "
                               "on 64 bytes, as torch.save does")
        self._file, self._owned = _open(file, "wb")
        self._archive_name = (os.path.splitext(os.path.basename(os.fsdecode(file)))[0]
                              if isinstance(file, (str, os.PathLike)) else "archive")
        self._zip = zipfile.ZipFile(_Stream(self._file), "w", zipfile.ZIP_STORED)
        self._written = set()
        self._version = 3
        self._id = _serialization_id().decode("ascii")
        self._finished = False

    def archive_name(self):
        """The archive's top-level folder: the file's name without its extension, or ``archive`` for a buffer."""
        return self._archive_name

    def serialization_id(self):
        """The id this archive gets."""
        return self._id

    def set_min_version(self, version):
        """Raises the version the archive declares to at least ``version``."""
        self._version = max(self._version, int(version))

    def write_record(self, name, data, size):
        """Adds record ``name`` holding the first ``size`` bytes of ``data`` (bytes, a storage or a tensor)."""
        if self._finished:
            raise RuntimeError("PytorchStreamWriter: cannot write a record after write_end_of_file()")
        if name in self._written:
            raise RuntimeError(f"Tried to serialize file twice: {name}")
        if isinstance(data, int):
            raise TypeError("write_record(): ember cannot read memory from a data pointer; pass the Storage or "
                            "bytes instead")
        if hasattr(data, "untyped_storage"):   # a tensor: its storage, as torch takes it
            data = data.untyped_storage()
        if isinstance(data, (UntypedStorage, TypedStorage)):
            data = numpy.ascontiguousarray(data._data).view(numpy.uint8).reshape(-1)
        payload = bytes(memoryview(data).cast("B")[:size])
        _write_record(self._zip, f"{self._archive_name}/{name}", payload)
        self._written.add(name)

    def get_all_written_records(self):
        """The names of the records written so far."""
        return set(self._written)

    def write_end_of_file(self):
        """Writes the closing records and finishes the archive."""
        if self._finished:
            return
        for name, data in (("version", f"{self._version}\n".encode()), ("byteorder", sys.byteorder.encode()),
                           (".data/serialization_id", self._id.encode())):
            if name not in self._written:
                self.write_record(name, data, len(data))
        self._zip.close()
        self._finished = True
        if self._owned:
            self._file.close()
