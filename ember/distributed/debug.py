"""The package's debug level (``TORCH_DISTRIBUTED_DEBUG``): ``DebugLevel``, ``get_debug_level``, ``set_debug_level``
and ``set_debug_level_from_env``. ember compares the arguments of a collective across ranks unless the level was
set to ``OFF`` (by the environment variable or a call): the check is how ember reports mismatched collectives."""
import enum
import os

__all__ = ["DebugLevel", "get_debug_level", "set_debug_level", "set_debug_level_from_env"]


class DebugLevel(enum.Enum):
    """How much torch.distributed checks and logs: ``OFF``, ``INFO`` or ``DETAIL``."""
    OFF = 0
    INFO = 1
    DETAIL = 2

    def __repr__(self):
        return f"<DebugLevel.{self.name}: {self.value}>"

    __hash__ = object.__hash__


_level = None   # None until set: then the environment decides, read when asked


def _from_env():
    """The level ``TORCH_DISTRIBUTED_DEBUG`` names (OFF when unset); ValueError for another value."""
    name = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if name not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL.")
    return DebugLevel[name]


def get_debug_level():
    """The debug level of the distributed package."""
    if _level is not None:
        return _level
    try:
        return _from_env()
    except ValueError:
        return DebugLevel.OFF


def set_debug_level(level):
    """Sets the debug level of the distributed package."""
    global _level
    if not isinstance(level, DebugLevel):
        raise TypeError(f"set_debug_level(): incompatible function arguments: expected a DebugLevel, got "
                        f"{type(level).__name__}")
    _level = level


def set_debug_level_from_env():
    """Sets the debug level from the ``TORCH_DISTRIBUTED_DEBUG`` environment variable."""
    set_debug_level(_from_env())


def checks_collectives():
    """Whether new groups compare collective arguments across ranks: unless the level was set to OFF explicitly."""
    if _level is not None:
        return _level is not DebugLevel.OFF
    return os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() != "OFF"
