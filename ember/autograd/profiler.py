"""``ember.autograd.profiler``: the older profiling API (``profile(enabled=...)``, ``record_function``), on the
same recorder as ``ember.profiler``."""
from .. import _backend
from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg
from ..profiler._profiler import _KinetoStyleProfile, record_function

__all__ = ["profile", "record_function", "emit_nvtx", "emit_itt", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_KinetoStyleProfile):
    """Context manager recording every op run inside it (when ``enabled``); ``key_averages().table()`` summarises."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(record_shapes, enabled, profile_memory)

    def __enter__(self):
        if self.enabled:
            self._start()
        return self

    def __exit__(self, *exc):
        self._stop()
        return False


class emit_itt:
    """Context manager that, in PyTorch, marks each op's range for Intel's VTune (ITT). ember emits no ITT ranges:
    entering checks only, as PyTorch's does, that the context is not entered twice."""

    _kind = "ITT"

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled, self.record_shapes, self.entered = enabled, record_shapes, False

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError(f"{self._kind} annotation context manager is not reentrant")
        self.entered = True
        self._synchronize()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return None
        self._synchronize()
        return False

    def _synchronize(self):
        pass


class emit_nvtx(emit_itt):
    """Context manager that, in PyTorch, marks each op's range for NVIDIA's profilers (NVTX). ember emits no NVTX
    ranges: entering and leaving synchronize the GPU, as PyTorch's do (raising where there is no CUDA)."""

    _kind = "NVTX"

    def _synchronize(self):
        _backend._load_cupy().cuda.runtime.deviceSynchronize()
