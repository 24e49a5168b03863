"""``FileStore``: a store in a file that several processes (on one machine or a shared file system) open by path.

The file is torch's own format, so torch's and ember's FileStores can share one: an append-only log of
(key, value) records, each a native uint32 length and the bytes. A user key is written as ``"/" + key``; deleting
appends ``"-/" + key`` with an empty value; ``"refcount/"`` counts the open stores and ``"cleanup/"`` the finished
ones, and the last one collected removes the file once ``world_size`` (when given) stores have finished. Each call
opens the file and holds an ``flock`` on it (exclusive to write, shared to read) while it reads the records it has
not seen yet, so the processes need no other channel.
"""
import datetime
import fcntl
import os
import struct
import threading
import time
import weakref

from .errors import DistStoreError
from .store import (Store, _as_bytes, _check_amount, _check_key, _check_keys, _check_timeout, added, compared,
                    deadline)

__all__ = ["FileStore"]

_REFCOUNT, _CLEANUP = "refcount/", "cleanup/"
_LENGTH = struct.Struct("=I")
_POLL_SECONDS = 0.01   # torch's FileStore polls a missing key every 10 ms too
_NO_TIMEOUT = datetime.timedelta(0)


class _Log:
    """One process's view of the file: the records read so far (``values``) and where reading stopped."""

    def __init__(self, path):
        self.path, self.values, self.position = path, {}, 0
        self.lock = threading.Lock()   # one file operation at a time per store, as flock does not order threads

    def open(self, writing, timeout):
        """The file's descriptor, locked; a missing file is waited for (up to ``timeout``) when only reading."""
        flags = os.O_RDWR | os.O_CREAT if writing else os.O_RDONLY
        until = deadline(timeout)
        while True:
            try:
                fd = os.open(self.path, flags, 0o644)
                break
            except FileNotFoundError as error:
                if writing or (until is not None and time.monotonic() > until):
                    raise DistStoreError(f"{error.strerror}: {self.path}") from None
                time.sleep(_POLL_SECONDS)
            except OSError as error:
                raise DistStoreError(f"{error.strerror}: {self.path}") from None
        fcntl.flock(fd, fcntl.LOCK_EX if writing else fcntl.LOCK_SH)
        return fd

    def refresh(self, fd):
        """Reads the records written since the last refresh into ``values``."""
        size = os.fstat(fd).st_size
        if size == self.position:
            return
        data = os.pread(fd, size - self.position, self.position)
        offset = 0
        while offset < len(data):
            key, offset = _field(data, offset)
            value, offset = _field(data, offset)
            key = key.decode(errors="surrogateescape")
            if key.startswith("-"):
                self.values.pop(key[1:], None)
            else:
                self.values[key] = value
        self.position = size

    def append(self, fd, *records):
        """Writes (key, value) records at the end of the file."""
        chunks = []
        for key, value in records:
            key = key.encode(errors="surrogateescape")
            chunks += [_LENGTH.pack(len(key)), key, _LENGTH.pack(len(value)), value]
        data = memoryview(b"".join(chunks))
        os.lseek(fd, 0, os.SEEK_END)
        while data:
            data = data[os.write(fd, data):]

    def add(self, key, amount, timeout):
        """Adds ``amount`` to the counter under the raw ``key``; the new value."""
        with self.lock:
            fd = self.open(True, timeout)
            try:
                self.refresh(fd)
                total = added(self.values.get(key), amount)
                self.append(fd, (key, str(total).encode()))
                return total
            finally:
                os.close(fd)


def _field(data, offset):
    (length,) = _LENGTH.unpack_from(data, offset)
    start = offset + _LENGTH.size
    return data[start:start + length], start + length


def _release(log, world_size):
    """Run when a FileStore is collected: counts it out; the last one, once ``world_size`` stores have finished,
    removes the file."""
    if not os.path.exists(log.path):
        return
    try:
        finished = log.add(_CLEANUP, 1, _NO_TIMEOUT)
        if log.add(_REFCOUNT, -1, _NO_TIMEOUT) == 0 and 0 <= world_size <= finished:
            os.remove(log.path)
    except (OSError, DistStoreError):
        pass   # the file went away meanwhile: nothing left to release


class FileStore(Store):
    """A store in the file ``file_name``, shared by every process that opens the same path. With ``world_size``
    (the number of stores that will open it), the last one collected removes the file."""

    def __init__(self, file_name, world_size=-1):
        if not isinstance(file_name, str) or isinstance(world_size, bool) or not isinstance(world_size, int):
            raise TypeError(f"FileStore(file_name: str, world_size: int = -1), got ({type(file_name).__name__}, "
                            f"{type(world_size).__name__})")
        super().__init__()
        self._log = _Log(file_name)
        self._log.add(_REFCOUNT, 1, self._timeout)
        weakref.finalize(self, _release, self._log, world_size)

    @property
    def path(self):
        """The file's path."""
        return self._log.path

    def _read(self, writing=False):
        """Opens, locks and refreshes the file; the caller closes the descriptor."""
        fd = self._log.open(writing, self._timeout)
        try:
            self._log.refresh(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def set(self, key, value):
        """Stores ``value`` under ``key``."""
        key, value = _check_key(key, "set"), _as_bytes(value, "set")
        with self._log.lock:
            fd = self._log.open(True, self._timeout)
            try:
                self._log.append(fd, ("/" + key, value))
            finally:
                os.close(fd)

    def get(self, key):
        """The bytes under ``key``, polling the file for it up to the store's timeout."""
        key = _check_key(key, "get")
        until = deadline(self._timeout)
        while True:
            values = self._present([key])
            if values is not None:
                return values[0]
            if until is not None and time.monotonic() > until:
                milliseconds = int(self._timeout.total_seconds() * 1000)
                raise DistStoreError(f"Timeout waiting for key: {key} after {milliseconds} ms")
            time.sleep(_POLL_SECONDS)

    def add(self, key, amount):
        """Adds ``amount`` to the counter under ``key`` and returns the new value."""
        return self._log.add("/" + _check_key(key, "add"), _check_amount(amount), self._timeout)

    def compare_set(self, key, expected_value, desired_value):
        """Sets ``key`` to ``desired_value`` if it holds ``expected_value``; returns the key's value afterwards."""
        key = "/" + _check_key(key, "compare_set")
        expected, desired = _as_bytes(expected_value, "compare_set"), _as_bytes(desired_value, "compare_set")
        with self._log.lock:
            fd = self._read(writing=True)
            try:
                write, result = compared(self._log.values.get(key), expected, desired)
                if write is not None:
                    self._log.append(fd, (key, write))
                return result
            finally:
                os.close(fd)

    def append(self, key, value):
        """Appends ``value`` to the bytes under ``key`` (creating it)."""
        key, value = "/" + _check_key(key, "append"), _as_bytes(value, "append")
        with self._log.lock:
            fd = self._read(writing=True)
            try:
                self._log.append(fd, (key, self._log.values.get(key, b"") + value))
            finally:
                os.close(fd)

    def check(self, keys):
        """True when every key is in the file."""
        return self._present(_check_keys(keys, "check")) is not None

    def delete_key(self, key):
        """Removes ``key`` (torch's FileStore answers True whether or not it was there)."""
        key = _check_key(key, "delete_key")
        with self._log.lock:
            fd = self._log.open(True, self._timeout)
            try:
                self._log.append(fd, ("-/" + key, b""))
            finally:
                os.close(fd)
        return True

    def num_keys(self):
        """The number of keys, counting the one that counts the open stores (as torch's FileStore does)."""
        with self._log.lock:
            os.close(self._read())
            return len(self._log.values)

    def list_keys(self):
        """The keys set by users of the store."""
        with self._log.lock:
            os.close(self._read())
            return [k[1:] for k in self._log.values if k.startswith("/")]

    def wait(self, keys, timeout=None):
        """Blocks until every key is in the file, polling it, up to ``timeout`` (default: the store's)."""
        keys = _check_keys(keys, "wait")
        until = deadline(self._timeout if timeout is None else _check_timeout(timeout, "wait"))
        while self._present(keys) is None:
            if until is not None and time.monotonic() > until:
                raise DistStoreError("Wait timeout")
            time.sleep(_POLL_SECONDS)

    def _present(self, keys):
        """The values of ``keys`` if all are in the file now, else None."""
        with self._log.lock:
            os.close(self._read())
            values = self._log.values
            if all("/" + k in values for k in keys):
                return [values["/" + k] for k in keys]
            return None

