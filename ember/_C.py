"""The few names of PyTorch's C extension module ``torch._C`` that third-party libraries call (``ember run`` maps
``torch._C`` here). ember has no C extension: these are the Python-level behaviors of those names."""

import sys
import types

from ._tensor import TensorBase, _TensorMeta  # noqa: F401
from .storage import StorageBase  # noqa: F401
from ._python_dispatch import _disabled_torch_dispatch_impl  # noqa: F401
from .amp.autocast_mode import _is_any_autocast_enabled  # noqa: F401
from .overrides import (DisableTorchFunction, DisableTorchFunctionSubclass, _disabled_torch_function_impl,  # noqa: F401
                        _is_torch_function_enabled, _is_torch_function_mode_enabled, _len_torch_function_stack,
                        _pop_mode as _pop_torch_function_stack, _push_mode as _push_on_torch_function_stack)

__all__ = ["_log_api_usage_once"]
__path__ = []   # its submodules (_nn, _functorch) are in sys.modules: `import torch._C._functorch` finds them there


def __getattr__(name):
    if name in ("PyTorchFileReader", "PyTorchFileWriter"):   # the zip archive classes load on first use
        from . import file_archive
        return getattr(file_archive, name)
    if name == "Generator":   # torch.Generator's home, where pickles find it
        from .ops.random import Generator
        return Generator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _len_torch_dispatch_stack():
    """How many ``TorchDispatchMode``s are on this thread's stack."""
    return len(_dispatch_state().modes)


def _get_dispatch_stack_at(index):
    """The dispatch mode at ``index`` of this thread's stack (0: the outermost)."""
    return _dispatch_state().modes[index]


def _push_on_torch_dispatch_stack(mode):
    """Makes ``mode`` the innermost dispatch mode."""
    from ._python_dispatch import push_mode
    push_mode(mode)


def _pop_torch_dispatch_stack(mode_key=None):
    """Removes the innermost dispatch mode and returns it."""
    from ._python_dispatch import pop_mode
    return pop_mode()


def _dispatch_state():
    from ._python_dispatch import state
    return state


def _are_functorch_transforms_active():
    """Whether a ``torch.func`` transform (vmap, grad, vjp, jvp, functionalize, ...) is running its function."""
    from .func._active import transforms_active
    return transforms_active()


def _get_tracing_state():
    """The state of the ``jit.trace`` recording the calling code, or None when none is (Pyro and others test it to
    skip value checks while tracing)."""
    from .jit._language import tracing_state
    return tracing_state()


def _is_tracing():
    """Whether a ``jit.trace`` is recording the calling code (asteroid's filterbanks ask before every convolution)."""
    return _get_tracing_state() is not None


_jit_profiling = {"executor": True, "mode": True}   # TorchScript's defaults; ember's jit has no executor they tune


def _jit_set_profiling_executor(enabled):
    """Sets TorchScript's profiling-executor flag and returns its previous value (speechbrain turns it off at
    import)."""
    previous, _jit_profiling["executor"] = _jit_profiling["executor"], bool(enabled)
    return previous


def _jit_set_profiling_mode(enabled):
    """Sets TorchScript's profiling-mode flag and returns its previous value."""
    previous, _jit_profiling["mode"] = _jit_profiling["mode"], bool(enabled)
    return previous


def _log_api_usage_once(event):
    """Notes a use of an API for PyTorch's usage logging (``torch._C._log_api_usage_once``, called by torchmetrics,
    Lightning and others when a class is constructed). PyTorch logs nothing unless a logging handler is set by its
    C++ side; ember has no such logger, so this is a no-op. ``event`` must be a string, as in torch."""
    if not isinstance(event, str):
        raise TypeError("bad argument type for built-in operation")


def _parse_to(*args, **kwargs):
    """``torch._C._nn._parse_to``: ``(device, dtype, non_blocking, memory_format)`` from ``Tensor.to``'s arguments
    (fastai's DataLoader reads its device with it)."""
    from .ops.conversion import _parse_to as parse
    memory_format = kwargs.pop("memory_format", None)
    dtype, device, non_blocking, copy = parse(args, kwargs)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if copy:
        raise RuntimeError(".to() does not accept copy argument")
    return device, dtype, non_blocking, memory_format


_nn = sys.modules[f"{__name__}._nn"] = types.ModuleType(f"{__name__}._nn", "torch._C._nn: torch.nn's bindings.")
_nn._parse_to = _parse_to


def _functorch_attribute(name):
    """``torch._C._functorch``'s names, from ``_functorch.vmap`` on first use (it imports vmap's machinery)."""
    if name in ("_add_batch_dim", "_remove_batch_dim", "get_unwrapped", "is_batchedtensor"):
        from ._functorch import vmap
        return getattr(vmap, name)
    raise AttributeError(f"module {__name__}._functorch has no attribute {name!r}")


_functorch = sys.modules[f"{__name__}._functorch"] = types.ModuleType(
    f"{__name__}._functorch", "torch._C._functorch: vmap's batched tensors (is_batchedtensor, get_unwrapped, "
    "_add_batch_dim, _remove_batch_dim).")
_functorch.__getattr__ = _functorch_attribute
