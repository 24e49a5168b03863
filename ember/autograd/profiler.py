"""``ember.autograd.profiler``: the older profiling API (``profile(enabled=...)``, ``record_function``), on the
same recorder as ``ember.profiler``."""
from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg
from ..profiler._profiler import _KinetoStyleProfile, record_function

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


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
