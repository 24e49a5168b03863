"""The profiler that records nothing (what the Trainer uses without ``profiler=``)."""
from .profiler import Profiler


class PassThroughProfiler(Profiler):
    """Records nothing, for no overhead; the Trainer's default (Lightning's ``PassThroughProfiler``)."""

    def start(self, action_name):
        pass

    def stop(self, action_name):
        pass
