"""``ember.profiler``: time every op (hooked at the single dispatch point) and ``record_function`` blocks, then
summarise with ``prof.key_averages().table()`` or export a Chrome trace, as ``torch.profiler``."""
from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._profiler import (ProfilerAction, ProfilerActivity, kineto_available, profile, record_function, schedule,
                        supported_activities, tensorboard_trace_handler)

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction", "ProfilerActivity", "profile",
           "record_function", "schedule", "supported_activities", "kineto_available", "tensorboard_trace_handler"]
