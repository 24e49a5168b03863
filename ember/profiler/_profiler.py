"""The recording machinery: a dispatch hook timing every op call, ``record_function`` blocks, and the ``profile``
context managers of ``ember.profiler`` and ``ember.autograd.profiler``."""
import enum
import functools
import re
import threading
import time
import weakref

from .._tensor import Tensor
from ..autograd.function import Composite, dispatch_hooks
from ._events import EventList, FunctionEvent

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule"]

_active = []   # the recording profilers (the innermost last)


def _now_us():
    return time.perf_counter_ns() / 1000.0


def _op_name(cls):
    """PyTorch-style event name: ``aten::mul`` for ember's primitive ``Mul``, ``aten::batch_norm`` for a composite op
    named as PyTorch's (lowercase); a user Function and ember's own composites (``AssignInplace``) keep their name."""
    name = cls.__name__
    if getattr(cls, "_array_level", False):
        return "aten::" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if issubclass(cls, Composite) and name[:1].islower():
        return "aten::" + name
    return name


class _Recorder:
    """Events of one profiling session, nested by a per-thread stack of open intervals; ``profile_memory``: each op
    event counts the bytes of the arrays it returns that own their memory and no event counted before, and the
    event open when such an array is released counts its bytes off (NumPy's temporaries inside an op are not
    seen)."""

    def __init__(self, record_shapes, profile_memory=False):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.events = []
        self.local = threading.local()
        self.counted = {}   # id -> weak reference of each array whose bytes an event counted

    def open(self, name, input_shapes=None, is_user_annotation=False):
        stack = self.local.__dict__.setdefault("stack", [])
        event = FunctionEvent(len(self.events), name, _now_us(), threading.get_ident(), input_shapes,
                              is_user_annotation)
        if stack:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)
        self.events.append(event)
        return event

    def close(self, event, result=None):
        event.end_us = _now_us()
        if self.profile_memory:   # the frees seen while it was open are already subtracted
            event.cpu_memory_usage += self._allocated(result) + sum(c.cpu_memory_usage for c in event.cpu_children)
        stack = self.local.stack
        if stack and stack[-1] is event:
            stack.pop()
            return
        index = next((i for i in range(len(stack) - 1, -1, -1) if stack[i] is event), None)
        if index is None:
            return
        # closed before intervals opened inside it (a profiler step ending inside a record_function block): those
        # outlast it, so they are not its children (PyTorch nests events by containment)
        for later in stack[index + 1:]:
            if later.cpu_parent is event:
                event.cpu_children.remove(later)
                later.cpu_parent = event.cpu_parent
                if event.cpu_parent is not None:
                    event.cpu_parent.cpu_children.append(later)
        del stack[index]

    def _allocated(self, result):
        """Bytes of the arrays in ``result`` that own their memory and were not counted before; each is watched, so
        that its release counts against the event open at that moment (PyTorch reports allocations net of frees)."""
        tensors = result if isinstance(result, (tuple, list)) else (result,)
        total = 0
        for tensor in tensors:
            array = tensor._data if isinstance(tensor, Tensor) else None
            if array is None or getattr(array, "base", None) is not None or id(array) in self.counted:
                continue
            key = id(array)
            try:
                self.counted[key] = weakref.ref(array, lambda _, key=key, size=array.nbytes: self._freed(key, size))
            except TypeError:   # an array type without weak references: counted, never released
                self.counted[key] = array
            total += array.nbytes
        return total

    def _freed(self, key, size):
        self.counted.pop(key, None)
        stack = getattr(self.local, "stack", None)
        if stack:
            stack[-1].cpu_memory_usage -= size

    def hook(self, cls, args, kwargs, proceed):
        if cls.__dict__.get("trace_inside"):   # named only for autocast: its inner ops are the events
            return proceed(args, kwargs)
        shapes = [list(a.shape) if isinstance(a, Tensor) else [] for a in args] if self.record_shapes else None
        event = self.open(_op_name(cls), shapes)
        result = None
        try:
            result = proceed(args, kwargs)
            return result
        finally:
            self.close(event, result)


class ProfilerActivity(enum.Enum):
    """What to profile: host (CPU) time; CUDA activity is not traced separately by ember."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as chosen by ``schedule``."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """A step -> ProfilerAction function: skip ``skip_first`` steps, then cycles of ``wait`` idle, ``warmup`` and
    ``active`` recorded steps (the last one saving), ``repeat`` times (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def schedule_fn(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


class _KinetoStyleProfile:
    """Shared body of both ``profile`` classes: start/stop recording, the events, their averages."""

    def __init__(self, record_shapes=False, enabled=True, profile_memory=False):
        self.record_shapes = record_shapes
        self.enabled = enabled
        self.profile_memory = profile_memory
        self._recorder = None
        self._events = EventList(profile_memory=profile_memory)

    def _start(self):
        self._recorder = _Recorder(self.record_shapes, self.profile_memory)
        dispatch_hooks.append(self._recorder.hook)
        _active.append(self._recorder)

    def _stop(self):
        recorder = self._recorder
        if recorder is None:
            return
        dispatch_hooks.remove(recorder.hook)
        _active.remove(recorder)
        self._events = EventList(self._events + recorder.events, self.profile_memory)
        self._recorder = None

    def events(self):
        """Every recorded event, in the order they started."""
        return self._events

    function_events = property(events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """Events averaged by name (and input shapes): call ``.table()`` on the result."""
        return self._events.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, *args, **kwargs):
        return self._events.table(*args, **kwargs)

    def export_chrome_trace(self, path, use_python_export=False):
        """Writes the events as a Chrome trace-event JSON file (gzip-compressed where ``path`` ends in ``.gz``)."""
        self._events.export_chrome_trace(path)

    def self_cpu_time_total(self):
        return self._events.self_cpu_time_total()


class profile(_KinetoStyleProfile):
    """Context manager recording the time of every op (and ``record_function`` block) run inside it; with a
    ``schedule``, only the steps it marks are recorded and ``on_trace_ready(prof)`` runs at each saving step."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes, profile_memory=profile_memory)
        self.activities = activities
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.acc_events = acc_events
        self.record_steps = schedule is not None   # with a schedule, each step is a ProfilerStep#N block, as torch's
        self.step_rec_fn = None

    def _enter_step(self):
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _exit_step(self):
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _action(self):
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def start(self):
        """Starts recording (what entering the context does)."""
        if self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start()
        self._enter_step()

    def stop(self):
        """Stops recording (what leaving the context does)."""
        self._exit_step()
        if self._recorder is not None:
            self._stop()
            if self.on_trace_ready is not None and self.schedule is None:
                self.on_trace_ready(self)

    def step(self):
        """Marks the end of a training step: moves the schedule on, saving when a recording cycle completes."""
        self._exit_step()
        previous = self._action()
        self.step_num += 1
        current = self._action()
        if previous == ProfilerAction.RECORD_AND_SAVE:
            self._stop()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
            if not self.acc_events:
                self._events = EventList(profile_memory=self.profile_memory)
        elif previous in (ProfilerAction.RECORD, ProfilerAction.WARMUP) and current == ProfilerAction.NONE:
            self._stop()
        if current in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and self._recorder is None:
            if current is not previous or previous == ProfilerAction.RECORD_AND_SAVE:
                self._events = EventList(profile_memory=self.profile_memory) if not self.acc_events else \
                    self._events
            self._start()
        self._enter_step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class record_function:
    """Context manager (or decorator) naming a block: the block appears as one event in the profile, containing the
    ops run inside it."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._events = []

    def __enter__(self):
        self._events = [(recorder, recorder.open(self.name, is_user_annotation=True)) for recorder in _active]
        return self

    def __exit__(self, *exc):
        for recorder, event in reversed(self._events):
            recorder.close(event)
        self._events = []
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return function(*args, **kwargs)
        return wrapper


def supported_activities():
    """The activities ember can profile: host (CPU) time; GPU kernels are timed as their host calls."""
    return {ProfilerActivity.CPU}


def kineto_available():
    """Whether PyTorch's Kineto tracer is built in: ember records at its own dispatch point, so False."""
    return False


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False, use_python_export=False):
    """An ``on_trace_ready`` handler writing each trace to ``dir_name/<worker>.<ns>.pt.trace.json[.gz]``, the files
    TensorBoard's profiler plugin reads; ``worker_name`` defaults to ``<hostname>_<pid>``."""
    import os
    import socket

    def handler(prof):
        nonlocal worker_name
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as error:
            raise RuntimeError("Can't create directory: " + dir_name) from error
        worker_name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name), use_python_export=use_python_export)
    return handler
