"""Forward-mode automatic differentiation, as ``torch.autograd.forward_ad``: dual tensors carry a tangent through
every op run while a dual level is open.

Tangents live beside their primals (``_dual``); while a level is open a dispatch hook (``_jvp.forward_hook``)
computes each op's output tangents. As in PyTorch there is at most one level at a time.
"""
from typing import NamedTuple, Optional

from .._backend import xp_of
from .._compat import as_strided
from .._tensor import Tensor, _make
from . import function as _function
from ._dual import same_layout, set_tangent, tangent_of, tangents as _tangents
from ._jvp import forward_hook, suspended
from .grad_mode import _DecoratorContextManager

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_current_level = -1


def enter_dual_level():
    """Opens a new forward-AD level (the one ``make_dual`` and ``unpack_dual`` use by default); returns it."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level = 0
    _function.dispatch_hooks.append(forward_hook)
    return _current_level


def exit_dual_level(*, level=None):
    """Closes the latest forward-AD level, deleting every tangent made at it."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This is "
                           "not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _function.dispatch_hooks.remove(forward_hook)
    _tangents.clear()
    _current_level = level - 1


def make_dual(tensor, tangent, *, level=None):
    """A new tensor aliasing ``tensor`` that carries ``tangent`` (as is when laid out like ``tensor``, else a
    copy laid out so) at the dual level; differentiable in reverse mode like a view."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if level != _current_level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tangent_of(tensor) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {level} is not supported.")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tangent.device != tensor.device:
        raise RuntimeError("Trying to set a forward gradient that has a different device than that of the "
                           f"original Tensor, this is not supported. Tensor is on {tensor.device} while the given "
                           f"forward gradient is on {tangent.device}.")
    dual = _alias(tensor)
    set_tangent(dual, tangent if same_layout(tangent._data, tensor._data) else _laid_out_like(tensor, tangent))
    return dual


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and its tangent (None where the tensor is not dual)."""

    primal: Tensor
    tangent: Optional[Tensor]


UnpackedDualTensor.__module__ = __name__


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor`` at the level: the primal a view of ``tensor`` without tangent, the
    tangent as stored (None outside a level or for a tensor that is not dual)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        kind = type(tensor)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
                        f"{name.replace('ember.', 'torch.', 1)}")
    tangent = tangent_of(tensor)
    if level != _current_level:
        if tangent is not None:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(_alias(tensor), None)
    return UnpackedDualTensor(_alias(tensor), tangent)


class dual_level(_DecoratorContextManager):
    """Context manager (and decorator) that opens a forward-AD level for its body; ``with`` gives the level."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def clone(self):
        return dual_level()


def _laid_out_like(primal, tangent):
    """A copy of ``tangent`` with ``primal``'s strides (for a primal with gaps, inside zeros spanning them, as
    PyTorch's tangents are; one with negative strides gets its dense element order)."""
    array, xp = primal._data, xp_of(primal._data)
    dtype = tangent._data.dtype
    if all(s >= 0 for s in array.strides) and array.size:
        extent = 1 + sum((n - 1) * s // array.itemsize for n, s in zip(array.shape, array.strides))
        strides = tuple(s // array.itemsize * dtype.itemsize for s in array.strides)
        copy = as_strided(xp, xp.zeros(extent, dtype), array.shape, strides, writeable=True)
    else:
        copy = xp.empty_like(array, dtype=dtype, order="K")
    copy[...] = tangent._data
    return _make(copy)


def _alias(tensor):
    """A view of ``tensor`` (same memory and version counter) that gradients flow through, without a tangent (not
    even one found through a dual base)."""
    if tensor.requires_grad:
        with suspended():
            alias = tensor.view_as(tensor)
    else:
        alias = _make(tensor._data, base=tensor)
    if _current_level >= 0:
        set_tangent(alias, None)
    return alias
