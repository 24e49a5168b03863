"""One result pipe per DataLoader worker: length-prefixed pickles that the main process reads without ever blocking.

A ``multiprocessing.Queue`` shared by all workers hangs its reader when a worker dies halfway through writing a
message: the reader waits for the rest, and the other workers' copies of the write end keep the pipe open. Here each
worker holds the only write end of its own pipe, and the main process reads whatever bytes are there, assembling
messages itself, so every wait ends on data, on a worker's death (its process sentinel) or on the timeout.
"""
import collections
import os
import pickle
import struct
import time
from multiprocessing import connection
from multiprocessing.reduction import ForkingPickler

_HEADER = struct.Struct("<Q")
_CHUNK = 1 << 20


class WorkerDied(Exception):
    """A worker process ended while the main process was waiting for results."""

    def __init__(self, process):
        super().__init__(process)
        self.process = process


def send(conn, obj):
    """Writes ``obj`` as one message on a worker's end ``conn``; raises if it cannot be pickled."""
    data = ForkingPickler.dumps(obj)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(conn.fileno(), view):]


class ResultReader:
    """The main process's ends of the workers' pipes, read together."""

    def __init__(self, connections, processes):
        self._connections = list(connections)
        self._processes = list(processes)
        self._buffers = [bytearray() for _ in self._connections]
        self._open = set(range(len(self._connections)))
        self._messages = collections.deque()

    def get(self, timeout=None):
        """The next object any worker sent. Raises ``TimeoutError`` after ``timeout`` seconds without one, and
        ``WorkerDied`` as soon as a worker process has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._messages:
            waiting = {self._connections[i].fileno(): i for i in self._open}
            sentinels = {process.sentinel: process for process in self._processes}
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = connection.wait(list(waiting) + list(sentinels), left)
            if not ready:
                raise TimeoutError
            for handle in ready:
                if handle in waiting:
                    self._read(waiting[handle])
            for handle in ready:
                if handle in sentinels:
                    raise WorkerDied(sentinels[handle])
        try:
            return pickle.loads(self._messages.popleft())
        except Exception as error:
            raise RuntimeError(f"A DataLoader worker sent a result the main process cannot unpickle: "
                               f"{type(error).__name__}: {error}") from error

    def _read(self, index):
        data = os.read(self._connections[index].fileno(), _CHUNK)
        if not data:  # the worker closed its end: it is exiting, and its sentinel will say so
            self._open.discard(index)
            return
        buffer = self._buffers[index]
        buffer += data
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            self._messages.append(bytes(buffer[_HEADER.size:_HEADER.size + size]))
            del buffer[:_HEADER.size + size]

    def close(self):
        """Closes the main process's ends: a worker still writing gets a broken pipe and exits."""
        for conn in self._connections:
            conn.close()
