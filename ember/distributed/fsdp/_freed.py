"""The storage FSDP frees: a gathered parameter the autograd graph holds keeps its shape and dtype over no memory
between a module's forward and its backward (as PyTorch's ``storage.resize_(0)``), until FSDP gathers it again."""
import numpy

from ..._backend import xp_of

__all__ = ["freed"]

_FREED = ("this parameter's gathered storage was freed when FSDP resharded its module; it is gathered again before "
          "the module's forward and, through a hook on the forward's outputs, before its backward")


class _FreedStorage(numpy.ndarray):
    """The array of a resharded unsharded parameter: its shape and dtype over one zero (no memory); computing with it
    raises, as PyTorch's resized-away storage does."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise RuntimeError(_FREED)

    def __array_function__(self, func, types, args, kwargs):
        raise RuntimeError(_FREED)


def freed(array):
    """A memoryless stand-in for ``array`` (the same shape and dtype)."""
    xp = xp_of(array)
    placeholder = xp.broadcast_to(xp.zeros((), array.dtype), array.shape)
    return placeholder.view(_FreedStorage) if xp is numpy else placeholder
