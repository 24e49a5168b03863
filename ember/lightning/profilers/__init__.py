"""Lightning's profilers: ``SimpleProfiler`` (durations), ``AdvancedProfiler`` (cProfile), ``PyTorchProfiler`` (the
operators, through ``ember.profiler``), ``PassThroughProfiler`` (nothing), and the ``Profiler`` base class;
``Trainer(profiler="simple" | "advanced" | "pytorch" | instance)``."""
from .advanced import AdvancedProfiler
from .base import PassThroughProfiler
from .profiler import Profiler
from .pytorch import PyTorchProfiler
from .simple import SimpleProfiler
from .xla import XLAProfiler

__all__ = ["AdvancedProfiler", "PassThroughProfiler", "Profiler", "PyTorchProfiler", "SimpleProfiler", "XLAProfiler"]


def _init_profiler(profiler):
    """The Trainer's profiler from its ``profiler`` argument: a name, an instance, or None (records nothing)."""
    if isinstance(profiler, str):
        profilers = {"simple": SimpleProfiler, "advanced": AdvancedProfiler, "pytorch": PyTorchProfiler,
                     "xla": XLAProfiler}
        if profiler.lower() not in profilers:
            from ..utilities.exceptions import MisconfigurationException
            raise MisconfigurationException("When passing string value for the `profiler` parameter of `Trainer`, "
                                            f"it can only be one of {list(profilers)}")
        profiler = profilers[profiler.lower()]()
    return profiler or PassThroughProfiler()
