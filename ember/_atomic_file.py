"""Crash-safe file writes: the new contents go to a temporary file beside the target, renamed over it once on disk,
so a save that dies midway leaves the previous file whole (``ember.save`` writes paths this way)."""
import contextlib
import os
import re
import signal
import stat
import threading
import time


def atomic_write(path, write):
    """Calls ``write(file)`` on a temporary file next to ``path`` and renames it over ``path`` once it is on disk.

    A crash or kill midway leaves any previous file at ``path`` whole. The temporary (``.<name>.<12 hex>.tmp``) is
    removed on any exception and on SIGTERM/SIGHUP; one left by a SIGKILLed process is swept by a later save.
    """
    path = os.path.realpath(path)
    directory, base = os.path.split(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    if os.path.isdir(path):
        raise RuntimeError(f"File {path} cannot be opened.")
    _sweep_stale_temporaries(directory, base)
    temp, descriptor = _create_temp(directory, base)
    try:
        with _removed_if_terminated(temp):
            if os.path.exists(path):
                os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
            with os.fdopen(descriptor, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _create_temp(directory, base):
    while True:
        temp = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
        try:  # os.open with 0o666 lets the umask decide the permissions, as for a plain open()
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue


_IMPORTED_AT = time.time()  # temporaries last written before this belong to saves that can no longer be running here
_TERMINATING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _sweep_stale_temporaries(directory, base):
    """Removes temporaries of saves to ``base`` that were killed (SIGKILL, power loss) before they could clean up:
    files of this function's naming pattern last modified before this process imported ember."""
    pattern = re.compile(rf"\.{re.escape(base)}\.[0-9a-f]{{12}}\.tmp")
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name):
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and info.st_mtime < _IMPORTED_AT:
                        os.unlink(entry.path)


@contextlib.contextmanager
def _removed_if_terminated(temp):
    """While a save runs, a terminating signal whose action is the default (death) first removes ``temp``; the
    process then dies of that signal as it would have. SIGINT needs nothing: it raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return

    def remove_and_die(signum, frame):
        with contextlib.suppress(OSError):
            os.unlink(temp)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    replaced = [s for s in _TERMINATING_SIGNALS if signal.getsignal(s) == signal.SIG_DFL]
    for signum in replaced:
        signal.signal(signum, remove_and_die)
    try:
        yield
    finally:
        for signum in replaced:
            signal.signal(signum, signal.SIG_DFL)


def _fsync_directory(directory):
    """Makes the rename durable; directories cannot be opened for syncing on Windows."""
    if os.name == "nt":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
