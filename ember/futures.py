"""``ember.futures``: PyTorch's ``torch.futures`` — a Future holds a value (or an error) that arrives later, runs
callbacks when it does, and chains with ``then``. ``jit.fork`` returns one."""
import threading
import traceback
import typing

__all__ = ["Future", "collect_all", "wait_all"]

T = typing.TypeVar("T")


class Future(typing.Generic[T]):
    """A value or an exception set once, later; ``wait`` blocks until it is set (thread-safe). ``Future[Tensor]``
    annotates, as in PyTorch."""

    _upstream = None   # what completes this one when waited on: the Future it was chained from, or a started Work

    def __init__(self, *, devices=None):
        self._condition = threading.Condition()
        self._done = False
        self._result = None
        self._exception = None
        self._callbacks = []

    def __repr__(self):
        return f"<ember.jit.Future object at {hex(id(self))}>"

    def done(self):
        """True once a result or an exception has been set."""
        return self._done

    def wait(self):
        """Blocks until the Future completes; returns its value or raises its exception."""
        if not self._done and self._upstream is not None:
            try:   # MPI progresses only when asked: a chain waits on the request it comes from
                self._upstream.wait()
            except Exception:   # noqa: S110 (its error reached this Future through the chain's callbacks)
                pass
        with self._condition:
            self._condition.wait_for(lambda: self._done)
        return self.value()

    def value(self):
        """The value of a completed Future (its exception is raised); does not block."""
        if self._exception is not None:
            raise self._exception
        return self._result

    def set_result(self, result):
        """Completes the Future with ``result`` and runs its callbacks."""
        self._complete(result, None)

    def set_exception(self, result):
        """Completes the Future with the exception ``result``, raised by ``wait`` and ``value``."""
        assert isinstance(result, Exception), f"{result} is of type {type(result)}, not an Exception."
        self._complete(None, result)

    def then(self, callback):
        """A new Future completed with ``callback(self)`` once this one completes (or with the error it raised)."""
        chained = Future()
        chained._upstream = self

        def run(future):
            try:
                chained.set_result(callback(future))
            except Exception as error:
                where = "".join(traceback.format_tb(error.__traceback__))
                chained.set_exception(RuntimeError(f"Got the following error when running the callback: "
                                                   f"{type(error).__name__}: {error}\n\nAt:\n{where}"))
        self.add_done_callback(run)
        return chained

    def add_done_callback(self, callback):
        """Runs ``callback(self)`` when the Future completes (at once if it already has)."""
        with self._condition:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def _complete(self, result, exception):
        with self._condition:
            if self._done:
                raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future can "
                                   "only be marked completed once.")
            self._result, self._exception, self._done = result, exception, True
            callbacks, self._callbacks = self._callbacks, []
            self._condition.notify_all()
        for callback in callbacks:
            callback(self)


def collect_all(futures):
    """A Future completed with the list of ``futures`` once every one of them has completed."""
    collected = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def arrived(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            collected.set_result(list(futures))
    if not futures:
        collected.set_result([])
    for future in futures:
        future.add_done_callback(arrived)
    return collected


def wait_all(futures):
    """Waits for every Future and returns their values; the first error met is raised."""
    return [future.wait() for future in futures]


def fork(func, *args, **kwargs):
    """``torch.fork``: runs ``func(*args, **kwargs)`` now (eager code has no other thread to run it on) and returns
    a completed Future of its result; an exception ``func`` raises propagates at once."""
    if not callable(func):
        raise TypeError(f"Object of type '{type(func).__name__}' is not an instance of 'function'")
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future):
    """``torch.wait``: the result of a Future from ``fork``, once it arrives."""
    if not isinstance(future, Future):
        raise TypeError("wait(): incompatible function arguments. The following argument types are supported:\n"
                        "    1. (arg0: torch._C.Future) -> object\n\nInvoked with: " + repr(future))
    return future.wait()
