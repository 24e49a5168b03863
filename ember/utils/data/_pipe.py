"""One result socket per DataLoader worker: length-prefixed pickles, each with the file descriptors it carries, that
the main process reads without ever blocking.

A ``multiprocessing.Queue`` shared by all workers hangs its reader when a worker dies halfway through writing a
message: the reader waits for the rest, and the other workers' copies of the write end keep the pipe open. Here each
worker holds the only write end of its own socket (a duplex ``Pipe``: a Unix socket pair, which can pass
descriptors), and the main process reads whatever bytes are there, assembling messages itself, so every wait ends
on data, on a worker's death (its process sentinel) or on the timeout.
"""
import collections
import os
import pickle
import socket
import struct
import time
from multiprocessing import connection
from multiprocessing.reduction import ForkingPickler

_HEADER = struct.Struct("<QI")   # pickle size, number of descriptors sent with the message
_CHUNK = 1 << 20
_MAX_FDS = 64   # descriptors one read can take: each message carries at most a few


class WorkerDied(Exception):
    """A worker process ended while the main process was waiting for results."""

    def __init__(self, process):
        super().__init__(process)
        self.process = process


def send(conn, obj, fds=()):
    """Writes ``obj`` as one message on a worker's end ``conn``, with descriptors ``fds`` (still open here);
    raises if it cannot be pickled."""
    data = ForkingPickler.dumps(obj)
    view = memoryview(_HEADER.pack(len(data), len(fds)) + data)
    if fds:   # the descriptors go with the message's first bytes
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            view = view[socket.send_fds(sock, [view], list(fds)):]
    while view:
        view = view[os.write(conn.fileno(), view):]


class ResultReader:
    """The main process's ends of the workers' pipes, read together."""

    def __init__(self, connections, processes):
        self._connections = list(connections)
        self._sockets = [socket.socket(fileno=os.dup(conn.fileno())) for conn in self._connections]
        self._processes = list(processes)
        self._buffers = [bytearray() for _ in self._connections]
        self._fds = [collections.deque() for _ in self._connections]   # received, not yet given to a message
        self._open = set(range(len(self._connections)))
        self._messages = collections.deque()   # (pickle, descriptors)

    def get(self, timeout=None):
        """The next ``(object, descriptors)`` any worker sent; the caller owns the descriptors. Raises
        ``TimeoutError`` after ``timeout`` seconds without one, and ``WorkerDied`` as soon as a worker process has
        ended."""
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
        data, fds = self._messages.popleft()
        try:
            return pickle.loads(data), fds
        except Exception as error:
            _close_all(fds)
            raise RuntimeError(f"A DataLoader worker sent a result the main process cannot unpickle: "
                               f"{type(error).__name__}: {error}") from error

    def _read(self, index):
        data, fds, flags, _ = socket.recv_fds(self._sockets[index], _CHUNK, _MAX_FDS)
        self._fds[index].extend(fds)
        if flags & socket.MSG_CTRUNC:
            raise RuntimeError("A DataLoader worker sent more file descriptors at once than the main process takes")
        if not data:  # the worker closed its end: it is exiting, and its sentinel will say so
            self._open.discard(index)
            return
        buffer, received = self._buffers[index], self._fds[index]
        buffer += data
        while len(buffer) >= _HEADER.size:
            size, count = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            fds = [received.popleft() for _ in range(count)]
            self._messages.append((bytes(buffer[_HEADER.size:_HEADER.size + size]), fds))
            del buffer[:_HEADER.size + size]

    def close(self):
        """Closes the main process's ends and every descriptor received and not handed out: a worker still writing
        gets a broken pipe and exits."""
        for sock, conn in zip(self._sockets, self._connections):
            sock.close()
            conn.close()
        for fds in self._fds:
            _close_all(fds)
            fds.clear()
        while self._messages:
            _close_all(self._messages.popleft()[1])


def _close_all(fds):
    for fd in fds:
        os.close(fd)
