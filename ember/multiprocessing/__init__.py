"""``ember.multiprocessing``: Python's ``multiprocessing`` with tensors that can live in shared memory (as
``torch.multiprocessing``), plus ``spawn``/``start_processes``, which start ranks through MPI so that
``init_process_group`` works inside them."""
import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403,E402

from ..ops import sharing as _sharing  # noqa: F401  (registers the shared-memory pickling of tensors)
from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException, SpawnContext, spawn,
                    start_processes)

__all__ = list(_mp.__all__) + ["ProcessContext", "ProcessExitedException", "ProcessRaisedException", "SpawnContext",
                               "get_all_sharing_strategies", "get_sharing_strategy", "set_sharing_strategy", "spawn",
                               "start_processes"]

_strategy = "file_descriptor"


def get_all_sharing_strategies():
    """The ways tensors can be shared; ember uses named POSIX shared memory for both."""
    return {"file_descriptor", "file_system"}


def get_sharing_strategy():
    """The current sharing strategy's name."""
    return _strategy


def set_sharing_strategy(new_strategy):
    """Sets the strategy name (both share through named POSIX shared memory in ember)."""
    global _strategy
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"Invalid sharing strategy {new_strategy!r}: expected one of "
                         f"{sorted(get_all_sharing_strategies())}")
    _strategy = new_strategy
