"""CUDA streams and events (``torch.cuda.Stream``, ``Event``, ``stream``), over CuPy's."""
import contextlib

from .. import _backend


class Stream:
    """A queue of GPU work; work issued inside ``with ember.cuda.stream(s)`` goes to ``s``."""

    def __init__(self, device=None, priority=0, _cupy_stream=None):
        cupy = _backend._load_cupy()
        self._stream = _cupy_stream if _cupy_stream is not None else cupy.cuda.Stream(non_blocking=False)
        self.device = _backend.device("cuda", 0 if device is None else _backend.as_device(device).index or 0)
        self.priority = priority

    @property
    def cuda_stream(self):
        """The raw ``cudaStream_t`` handle as an int."""
        return self._stream.ptr

    def synchronize(self):
        """Waits until all work queued on this stream has finished."""
        self._stream.synchronize()

    def query(self):
        """True when all work queued on this stream has finished."""
        return self._stream.done

    def wait_event(self, event):
        """Makes later work on this stream wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Makes later work on this stream wait for the work queued so far on ``stream``."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Records ``event`` (a new one by default) on this stream and returns it."""
        event = event or Event()
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self):
        return hash(self.cuda_stream)

    def __enter__(self):
        self._context = stream(self)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def __repr__(self):
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A marker in a stream's work, for waiting and for timing (``elapsed_time`` in milliseconds)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cupy = _backend._load_cupy()
        self._event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

    def record(self, stream=None):
        """Marks the point reached by ``stream`` (the current stream by default)."""
        self._event.record((stream or current_stream())._stream)

    def wait(self, stream=None):
        """Makes later work on ``stream`` (the current one by default) wait for this event."""
        (stream or current_stream()).wait_event(self)

    def query(self):
        """True when the work before this event has finished."""
        return self._event.done

    def synchronize(self):
        """Waits until the work before this event has finished."""
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event``, both recorded with ``enable_timing=True``."""
        return _backend._load_cupy().cuda.get_elapsed_time(self._event, end_event._event)


def current_stream(device=None):
    """The stream that GPU work is issued to now."""
    return Stream(device, _cupy_stream=_backend._load_cupy().cuda.get_current_stream())


def default_stream(device=None):
    """The device's default (null) stream."""
    return Stream(device, _cupy_stream=_backend._load_cupy().cuda.Stream.null)


class StreamContext:
    """Issues the GPU work inside the ``with`` block to ``stream`` (``torch.cuda.StreamContext``); no-op for None."""

    def __init__(self, stream):
        self.stream = stream
        self._entered = None

    def __enter__(self):
        if self.stream is not None:
            self._entered = self.stream._stream
            self._entered.__enter__()

    def __exit__(self, *exc):
        if self._entered is not None:
            self._entered.__exit__(*exc)
            self._entered = None
        return False


@contextlib.contextmanager
def stream(stream):
    """Issues the GPU work inside the ``with`` block to ``stream`` (no-op for None)."""
    if stream is None:
        yield
        return
    with stream._stream:
        yield stream
