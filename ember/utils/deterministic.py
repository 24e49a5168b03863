"""``utils.deterministic``: ``fill_uninitialized_memory`` — whether ``empty`` and its kin (and ``resize_``'s new
elements) are filled with NaN or the largest integer while deterministic algorithms are on (default True)."""
import sys
import types

from .. import _runtime


class _Deterministic(types.ModuleType):
    """This module, with ``fill_uninitialized_memory`` as a checked property."""

    @property
    def fill_uninitialized_memory(self):
        """Whether uninitialised memory is filled while deterministic algorithms are on."""
        return _runtime._settings["fill_uninitialized_memory"]

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode):
        if not isinstance(mode, bool):
            raise RuntimeError(f"expected a bool, but got {type(mode).__name__}")
        _runtime._settings["fill_uninitialized_memory"] = mode


sys.modules[__name__].__class__ = _Deterministic
