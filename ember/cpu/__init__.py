"""``ember.cpu``: CPU-specific names PyTorch has (``torch.cpu``): the deprecated ``amp`` aliases and the
device-agnostic device, stream and event API, which on the CPU has nothing to wait for (ops finish before they
return)."""
import contextlib

from . import amp  # noqa: F401

__all__ = ["is_available", "current_device", "device_count", "is_initialized", "set_device", "synchronize", "Stream",
           "Event", "StreamContext", "stream", "current_stream"]


def is_available():
    """Always True: the CPU is always there."""
    return True


def current_device():
    """The current CPU device's name: always ``'cpu'``."""
    return "cpu"


def device_count():
    """The number of CPU devices (not cores): always 1."""
    return 1


def is_initialized():
    """Always True: the CPU needs no initialisation."""
    return True


def set_device(device):
    """Selects the CPU device: there is only one, so nothing changes."""


def synchronize(device=None):
    """Waits for the CPU's queued work: ember's CPU ops finish before they return, so there is none."""


class Stream:
    """A CPU stream, for device-agnostic code: CPU work runs in order as it is called."""

    def __init__(self, priority=-1):
        self.priority = priority

    def wait_stream(self, stream):
        """Orders this stream after ``stream``: CPU work is already in order."""

    def record_event(self):
        """Records an event on this stream (CPU work is done when called)."""

    def wait_event(self, event):
        """Orders this stream after ``event``: CPU work is already in order."""


class Event:
    """A CPU event, for device-agnostic code: always complete."""

    def query(self):
        """Whether the work before the event is done: always True on the CPU."""
        return True

    def record(self, stream=None):
        """Marks the point in ``stream`` (nothing to mark on the CPU)."""

    def synchronize(self):
        """Waits for the event: it is always complete."""

    def wait(self, stream=None):
        """Makes ``stream`` wait for the event: it is always complete."""


_current = {"stream": Stream()}


class StreamContext(contextlib.AbstractContextManager):
    """Selects ``stream`` as the current CPU stream inside a ``with`` block (None selects nothing)."""

    def __init__(self, stream):
        self.stream, self.previous = stream, None

    def __enter__(self):
        if self.stream is not None:
            self.previous, _current["stream"] = _current["stream"], self.stream

    def __exit__(self, *exc_info):
        if self.stream is not None:
            _current["stream"] = self.previous


def stream(stream):
    """A ``StreamContext`` selecting ``stream``."""
    return StreamContext(stream)


def current_stream(device=None):
    """The currently selected CPU stream (``device`` is ignored: there is one CPU device)."""
    return _current["stream"]
