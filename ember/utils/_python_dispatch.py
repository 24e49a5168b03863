"""``torch.utils._python_dispatch``: ``TorchDispatchMode`` and the helpers for ``__torch_dispatch__`` subclasses.

While a mode is on, each op ember runs is handed to its ``__torch_dispatch__(func, types, args, kwargs)`` as the
ATen calls PyTorch would make (``ember._python_dispatch`` and its table); the mode is popped while its handler
runs, so the ops the handler calls go to the modes below it and then run.
"""
import contextlib

from .. import _python_dispatch as _core
from .._tensor import Tensor


class TorchDispatchMode:
    """A context manager whose ``__torch_dispatch__(func, types, args=(), kwargs=None)`` sees every ATen op run
    inside it, below autograd (subclass it and define ``__torch_dispatch__``)."""

    supports_higher_order_operators = False

    def __init__(self, _dispatch_key=None):
        if _dispatch_key is not None:
            self.__dict__["_dispatch_key"] = _dispatch_key

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        """Deprecated in PyTorch: makes the mode; enter it with ``with``."""
        import warnings
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`",
                      stacklevel=2)
        return cls(*args, **kwargs)

    @classmethod
    def is_infra_mode(cls):
        """Whether the mode is one of PyTorch's own tracing modes (never, for user modes)."""
        return False

    @classmethod
    def ignore_compile_internals(cls):
        """Whether ``torch.compile``'s internals skip the mode (only for infra modes, as PyTorch's default)."""
        return cls.is_infra_mode()


class BaseTorchDispatchMode(TorchDispatchMode):
    """A mode that runs every op unchanged: subclass it and override what you need."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def is_in_torch_dispatch_mode(include_infra_modes=True):
    """Whether any dispatch mode is on (including one whose handler is running)."""
    return bool(_core.state.modes or _core.state.pending)


def any_torch_dispatch_mode_on_stack():
    """Whether a user's dispatch mode is on the stack."""
    return any(not m.is_infra_mode() and not m.ignore_compile_internals() for m in _core.state.modes)


def _get_current_dispatch_mode():
    """The innermost dispatch mode on the stack (the next whose handler runs), or None."""
    return _core.state.modes[-1] if _core.state.modes else None


def _get_current_dispatch_mode_stack():
    """The dispatch modes on the stack, innermost last."""
    return list(_core.state.modes)


def _len_torch_dispatch_stack():
    """How many dispatch modes are on the stack."""
    return len(_core.state.modes)


def _push_mode(mode):
    """Makes ``mode`` the innermost dispatch mode."""
    _core.push_mode(mode)


def _pop_mode(k=None):
    """Removes the innermost dispatch mode and returns it."""
    return _core.pop_mode()


@contextlib.contextmanager
def _pop_mode_temporarily(k=None):
    """Pops the innermost mode for the block and pushes it back after."""
    old = _pop_mode(k)
    try:
        yield old
    finally:
        _push_mode(old)


@contextlib.contextmanager
def _disable_current_modes():
    """Pops every dispatch mode for the block (yielding them, outermost first) and pushes them back after."""
    old = [_pop_mode() for _ in range(len(_core.state.modes))]
    try:
        yield old
    finally:
        for mode in reversed(old):
            _push_mode(mode)


def is_traceable_wrapper_subclass(t):
    """Whether ``t`` is an instance of a wrapper subclass with ``__tensor_flatten__``/``__tensor_unflatten__``."""
    return is_traceable_wrapper_subclass_type(type(t))


def is_traceable_wrapper_subclass_type(t):
    """Whether the class ``t`` is a Tensor subclass with ``__tensor_flatten__`` and ``__tensor_unflatten__``."""
    return (isinstance(t, type) and issubclass(t, Tensor) and t is not Tensor and hasattr(t, "__tensor_flatten__")
            and hasattr(t, "__tensor_unflatten__"))


def transform_subclass(t, callback, outer_size=None, outer_stride=None):
    """Rebuilds the wrapper subclass ``t`` from ``callback(name, inner)`` applied to each of its inner tensors."""
    outer_size = outer_size if outer_size is not None else t.size()
    outer_stride = outer_stride if outer_stride is not None else t.stride()
    names, ctx = t.__tensor_flatten__()
    inner = {name: callback(name, getattr(t, name)) for name in names}
    return type(t).__tensor_unflatten__(inner, ctx, outer_size, outer_stride)


def return_and_correct_aliasing(func, args, kwargs, out):
    """What a wrapper subclass's ``__torch_dispatch__`` returns for ``func``: an in-place op (``add_``) returns its
    ``self`` argument, as ATen's do; other results are returned as they are (ember's wrappers share no storage
    with their inner tensors, so there is no aliasing to correct)."""
    name = func._overloadpacket._opname if hasattr(func, "_overloadpacket") else str(func)
    if name.endswith("_") and not name.endswith("__") and args:
        return args[0]
    return out
