"""Key-value stores with torch.distributed's ``Store`` interface: the ``Store`` base, ``HashStore`` (in this process,
thread-safe) and ``PrefixStore`` (a namespace inside another store). ``FileStore`` (shared by processes through a
file) lives in ``file_store.py``.

Keys are str; values are bytes (a str value is stored as its UTF-8 bytes). A ``get`` or ``wait`` blocks until its
keys exist, for at most the store's timeout (``timedelta(0)`` waits forever, as in torch), then raises
``DistStoreError``.
"""
import datetime
import re
import threading
import time

from .errors import DistStoreError

__all__ = ["HashStore", "PrefixStore", "Store", "TCPStore"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)
_INTEGER = re.compile(rb"\s*[+-]?\d+")
_INT64 = 2 ** 63


def _check_key(key, method):
    if not isinstance(key, str):
        raise TypeError(f"{method}(): incompatible function arguments: a key must be a str, got "
                        f"{type(key).__name__}")
    return key


def _check_keys(keys, method):
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "__iter__"):
        raise TypeError(f"{method}(): incompatible function arguments: keys must be a list of str, got "
                        f"{type(keys).__name__}")
    return [_check_key(k, method) for k in keys]


def _as_bytes(value, method):
    """A value as the bytes a store holds: a str's UTF-8 encoding, or the bytes themselves."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"{method}(): incompatible function arguments: a value must be a str or bytes, got "
                    f"{type(value).__name__}")


def _check_timeout(timeout, method):
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{method}(): incompatible function arguments: timeout must be a datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    return timeout


def _check_amount(amount):
    if isinstance(amount, bool) or not hasattr(amount, "__index__") or not -_INT64 <= int(amount) < _INT64:
        raise TypeError(f"add(): incompatible function arguments: the amount must be a 64-bit int, got {amount!r}")
    return int(amount)


def added(current, amount):
    """The counter ``add`` leaves: ``current`` (bytes, or None when the key is new) read as C's ``stoll`` reads it
    (leading spaces and trailing text ignored), plus ``amount``; ValueError or IndexError ("stoll") as torch's."""
    if not current:
        return amount
    match = _INTEGER.match(current)
    if match is None:
        raise ValueError("stoll")
    start = int(match.group())
    if not -_INT64 <= start < _INT64:
        raise IndexError("stoll")
    return start + amount


def compared(current, expected, desired):
    """``compare_set``'s rule: (the value to write or None, the value to return). The key is set when it holds
    ``expected``, or is missing and ``expected`` is empty; otherwise the current value (``expected`` when the key is
    missing) comes back."""
    if (current is None and not expected) or (current is not None and current == expected):
        return desired, desired
    return None, expected if current is None else current


def deadline(timeout):
    """The ``time.monotonic()`` by which a wait of ``timeout`` gives up; None for ``timedelta(0)`` (no limit)."""
    seconds = timeout.total_seconds()
    return None if seconds == 0 else time.monotonic() + seconds


def left(until):
    """Seconds left before ``until`` (None: no limit)."""
    return None if until is None else max(until - time.monotonic(), 0.0)


class Store:
    """The base of every store: a key-value map shared by the processes (or threads) of a job. Subclasses define
    ``set``, ``get``, ``add``, ``compare_set``, ``check``, ``delete_key``, ``num_keys`` and ``wait``; the multi-key
    calls and ``append`` are made of those."""

    def __init__(self):
        self._timeout = _DEFAULT_TIMEOUT

    @property
    def timeout(self):
        """How long ``get`` and ``wait`` block for a missing key (a timedelta; zero means forever)."""
        return self._timeout

    def set_timeout(self, timeout):
        """Sets the store's default timeout."""
        self._timeout = _check_timeout(timeout, "set_timeout")

    def set(self, key, value):
        """Stores ``value`` (str or bytes) under ``key``, replacing any earlier value."""
        raise self._abstract("set")

    def get(self, key):
        """The bytes under ``key``, waiting for it up to the store's timeout (DistStoreError after that)."""
        raise self._abstract("get")

    def add(self, key, amount):
        """Adds ``amount`` to the integer counter under ``key`` (created at 0) and returns the new value."""
        raise self._abstract("add")

    def compare_set(self, key, expected_value, desired_value):
        """Sets ``key`` to ``desired_value`` if it holds ``expected_value`` (or is missing and ``expected_value`` is
        empty); returns the value the key holds afterwards (``expected_value`` when it stays missing)."""
        raise self._abstract("compare_set")

    def check(self, keys):
        """True when every key of ``keys`` is in the store, without waiting."""
        raise self._abstract("check")

    def delete_key(self, key):
        """Removes ``key``; True if it was there."""
        raise self._abstract("delete_key")

    def num_keys(self):
        """The number of keys in the store."""
        raise self._abstract("num_keys")

    def wait(self, keys, timeout=None):
        """Blocks until every key of ``keys`` is in the store, up to ``timeout`` (default: the store's)."""
        raise self._abstract("wait")

    def append(self, key, value):
        """Appends ``value`` to the bytes under ``key`` (creating it)."""
        value = _as_bytes(value, "append")
        expected = value
        current = self.compare_set(key, b"", expected)
        while current != expected:
            expected = current + value
            current = self.compare_set(key, current, expected)

    def multi_get(self, keys):
        """The values of ``keys``, waiting for each as ``get`` does."""
        return [self.get(k) for k in _check_keys(keys, "multi_get")]

    def multi_set(self, keys, values):
        """Sets each key of ``keys`` to the value at the same place in ``values``."""
        keys, values = _check_keys(keys, "multi_set"), list(values)
        if len(keys) != len(values):
            raise ValueError(f"multi_set(): got {len(keys)} keys but {len(values)} values")
        for key, value in zip(keys, values):
            self.set(key, value)

    def has_extended_api(self):
        """Whether the store has the extended operations (``append``, ``multi_get``, ``multi_set``) natively."""
        return False

    def _abstract(self, method):
        return RuntimeError(f"{type(self).__name__} does not define Store.{method}: a Store subclass defines set, "
                            f"get, add, compare_set, check, delete_key, num_keys and wait")


class HashStore(Store):
    """A store in this process's memory, shared by its threads (all calls are thread-safe)."""

    def __init__(self):
        super().__init__()
        self._data = {}
        self._changed = threading.Condition()

    def set(self, key, value):
        """Stores ``value`` under ``key`` and wakes the threads waiting for it."""
        key, value = _check_key(key, "set"), _as_bytes(value, "set")
        with self._changed:
            self._data[key] = value
            self._changed.notify_all()

    def get(self, key):
        """The bytes under ``key``, waiting for it up to the store's timeout."""
        key = _check_key(key, "get")
        with self._changed:
            self._await([key], self._timeout)
            return self._data[key]

    def add(self, key, amount):
        """Adds ``amount`` to the counter under ``key`` and returns the new value."""
        key, amount = _check_key(key, "add"), _check_amount(amount)
        with self._changed:
            total = added(self._data.get(key), amount)
            self._data[key] = str(total).encode()
            self._changed.notify_all()
            return total

    def compare_set(self, key, expected_value, desired_value):
        """Sets ``key`` to ``desired_value`` if it holds ``expected_value``; returns the key's value afterwards."""
        key = _check_key(key, "compare_set")
        expected, desired = _as_bytes(expected_value, "compare_set"), _as_bytes(desired_value, "compare_set")
        with self._changed:
            write, result = compared(self._data.get(key), expected, desired)
            if write is not None:
                self._data[key] = write
                self._changed.notify_all()
            return result

    def check(self, keys):
        """True when every key is present."""
        keys = _check_keys(keys, "check")
        with self._changed:
            return all(k in self._data for k in keys)

    def delete_key(self, key):
        """Removes ``key``; True if it was there."""
        key = _check_key(key, "delete_key")
        with self._changed:
            return self._data.pop(key, None) is not None

    def num_keys(self):
        """The number of keys."""
        with self._changed:
            return len(self._data)

    def list_keys(self):
        """Every key in the store."""
        with self._changed:
            return list(self._data)

    def wait(self, keys, timeout=None):
        """Blocks until every key is present, up to ``timeout`` (default: the store's)."""
        keys = _check_keys(keys, "wait")
        timeout = self._timeout if timeout is None else _check_timeout(timeout, "wait")
        with self._changed:
            self._await(keys, timeout)

    def append(self, key, value):
        """Appends ``value`` to the bytes under ``key`` (creating it)."""
        key, value = _check_key(key, "append"), _as_bytes(value, "append")
        with self._changed:
            self._data[key] = self._data.get(key, b"") + value
            self._changed.notify_all()

    def multi_get(self, keys):
        """The values of ``keys``, waiting for all of them up to the store's timeout."""
        keys = _check_keys(keys, "multi_get")
        with self._changed:
            self._await(keys, self._timeout)
            return [self._data[k] for k in keys]

    def multi_set(self, keys, values):
        """Sets every key to its value at once."""
        keys, values = _check_keys(keys, "multi_set"), [_as_bytes(v, "multi_set") for v in values]
        if len(keys) != len(values):
            raise ValueError(f"multi_set(): got {len(keys)} keys but {len(values)} values")
        with self._changed:
            self._data.update(zip(keys, values))
            self._changed.notify_all()

    def has_extended_api(self):
        """True: ``append``, ``multi_get`` and ``multi_set`` are native."""
        return True

    def _await(self, keys, timeout):
        """With the condition held: waits until every key is present, or raises DistStoreError."""
        until = deadline(timeout)
        if not self._changed.wait_for(lambda: all(k in self._data for k in keys), left(until)):
            raise DistStoreError("Wait timeout")


class PrefixStore(Store):
    """Another store's keys under ``prefix + "/"``: ranks sharing one store keep separate namespaces in it."""

    def __init__(self, prefix, store):
        if not isinstance(prefix, str) or not isinstance(store, Store):
            raise TypeError(f"PrefixStore(prefix: str, store: Store), got ({type(prefix).__name__}, "
                            f"{type(store).__name__})")
        super().__init__()
        self._prefix, self._store = prefix, store

    @property
    def underlying_store(self):
        """The store the keys live in."""
        return self._store

    @property
    def timeout(self):
        """The underlying store's timeout."""
        return self._store.timeout

    def set_timeout(self, timeout):
        """Sets the underlying store's timeout."""
        self._store.set_timeout(timeout)

    def _key(self, key, method):
        return f"{self._prefix}/{_check_key(key, method)}"

    def _keys(self, keys, method):
        return [self._key(k, method) for k in _check_keys(keys, method)]

    def set(self, key, value):
        """Sets ``prefix/key``."""
        self._store.set(self._key(key, "set"), value)

    def get(self, key):
        """Gets ``prefix/key``, waiting as the underlying store does."""
        return self._store.get(self._key(key, "get"))

    def add(self, key, amount):
        """Adds to the counter ``prefix/key``."""
        return self._store.add(self._key(key, "add"), amount)

    def compare_set(self, key, expected_value, desired_value):
        """``compare_set`` on ``prefix/key``."""
        return self._store.compare_set(self._key(key, "compare_set"), expected_value, desired_value)

    def check(self, keys):
        """True when every ``prefix/key`` is present."""
        return self._store.check(self._keys(keys, "check"))

    def delete_key(self, key):
        """Removes ``prefix/key``."""
        return self._store.delete_key(self._key(key, "delete_key"))

    def num_keys(self):
        """The number of keys in the underlying store (all prefixes)."""
        return self._store.num_keys()

    def list_keys(self):
        """The keys under this prefix, without it."""
        start = self._prefix + "/"
        return [k[len(start):] for k in self._store.list_keys() if k.startswith(start)]

    def wait(self, keys, timeout=None):
        """Waits for every ``prefix/key``."""
        keys = self._keys(keys, "wait")
        if timeout is None:
            self._store.wait(keys)
        else:
            self._store.wait(keys, timeout)

    def append(self, key, value):
        """Appends to ``prefix/key``."""
        self._store.append(self._key(key, "append"), value)

    def multi_get(self, keys):
        """The values of every ``prefix/key``."""
        return self._store.multi_get(self._keys(keys, "multi_get"))

    def multi_set(self, keys, values):
        """Sets every ``prefix/key``."""
        self._store.multi_set(self._keys(keys, "multi_set"), values)

    def has_extended_api(self):
        """Whether the underlying store has the extended operations."""
        return self._store.has_extended_api()


class TCPStore(Store):
    """torch's socket key-value server, which ember does not have: constructing one raises a RuntimeError saying
    what to use instead. The class exists so that ``isinstance`` checks and annotations naming it still work."""

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=_DEFAULT_TIMEOUT,
                 wait_for_workers=True, multi_tenant=False, master_listen_fd=None, use_libuv=True):
        raise RuntimeError(
            "ember.distributed has no TCPStore: its ranks meet through MPI, so init_process_group needs no store "
            "(start them with mpiexec, `python -m ember.distributed.run` or ember.multiprocessing.spawn). For a "
            "key-value store shared by processes use FileStore(path, world_size) on a file they all see; within one "
            "process, HashStore().")
