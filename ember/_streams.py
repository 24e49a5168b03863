"""``torch.Stream`` and ``torch.Event``: the device-agnostic stream and event types. Without an accelerator they are
the CPU's (PyTorch's CPU backend: one stream, id 0, whose work is done when a call returns; it records no events);
``device="cuda"`` gives ``ember.cuda``'s CuPy-backed ones."""
from . import _backend

__all__ = ["Stream", "Event"]


def _device(device):
    """The device a stream or event is made for: ``device``, else the current accelerator, else the CPU."""
    if device is None:
        from . import accelerator
        return accelerator.current_accelerator() or _backend.device("cpu")
    return _backend.as_device(device)


class Stream:
    """Stream(device=None, *, priority=0): an in-order queue of work on ``device`` (the current accelerator by
    default); a context manager that makes it the current stream."""

    def __new__(cls, device=None, *, priority=0):
        device = _device(device)
        if device.type == "cuda":
            from . import cuda
            return cuda.Stream(device, priority=priority)
        self = super().__new__(cls)
        self.device = _backend.device(device.type)
        return self

    @property
    def device_type(self):
        """The stream's device type as an int (0: CPU)."""
        return 0

    @property
    def device_index(self):
        """The stream's device index (-1: the CPU has no index)."""
        return -1

    @property
    def stream_id(self):
        """The stream's id within its device (the CPU has one stream, 0)."""
        return 0

    def query(self):
        """Whether all work queued on the stream is done: always, on the CPU."""
        return True

    def synchronize(self):
        """Waits for the stream's work: CPU work is done when its call returns."""

    def is_capturing(self):
        """Whether the stream is capturing a graph: never, on the CPU."""
        return False

    def wait_event(self, event):
        """Makes later work on this stream wait for ``event``: CPU work is already in order."""

    def wait_stream(self, stream):
        """Makes later work wait for the work queued on ``stream`` (by recording an event on it, as PyTorch does)."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Records ``event`` (a new one by default) on this stream; the CPU backend has no events."""
        raise RuntimeError("cpu backend doesn't support events.")

    @property
    def native_handle(self):
        """The backend's handle for the stream; the CPU backend has none."""
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device, self.stream_id) == (other.device, other.stream_id)

    def __hash__(self):
        return hash((self.device.type, self.device_index, self.stream_id))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def __repr__(self):
        return (f"torch.Stream device_type={self.device.type}, device_index={self.device_index}, "
                f"stream_id={self.stream_id}")


class Event:
    """Event(device=None, *, enable_timing=False, blocking=False, interprocess=False): a marker in a stream's work,
    for waiting on it and timing it (on the current accelerator by default)."""

    def __new__(cls, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        device = _device(device)
        if device.type == "cuda":
            from . import cuda
            return cuda.Event(enable_timing=enable_timing, blocking=blocking, interprocess=interprocess)
        self = super().__new__(cls)
        self.device = _backend.device(device.type)
        self._timing = bool(enable_timing)
        return self

    @property
    def event_id(self):
        """The event's id (0: never recorded)."""
        return 0

    def record(self, stream=None):
        """Marks the point reached by ``stream`` (the current one by default); the CPU backend has no events."""
        raise RuntimeError("cpu backend doesn't support events.")

    def query(self):
        """Whether the work before the event is done: always, for an event never recorded."""
        return True

    def synchronize(self):
        """Waits for the work before the event: there is none to wait for."""

    def wait(self, stream=None):
        """Makes later work on ``stream`` wait for the event: there is nothing to wait for."""

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event``, both made with ``enable_timing=True``."""
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def __repr__(self):
        return (f"torch.Event device_type={self.device.type}, device_index=-1, event_flag={int(self._timing)}, "
                f"event_id={self.event_id}")
