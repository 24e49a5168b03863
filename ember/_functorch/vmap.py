"""``torch._functorch.vmap``: the helpers of vmap's implementation that libraries import (tensordict), on ember's
batched tensors (``ember.func._vmap``: a physical tensor, its batch dim and its vmap level)."""
import functools

from .._tensor import Tensor
from ..func._vmap import BatchedTensor, _Level, batched, remove_batch_dim
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = ["Tensor", "_add_batch_dim", "_broadcast_to_and_flatten", "_get_name", "_maybe_remove_batch_dim",
           "_remove_batch_dim", "is_batchedtensor", "tree_flatten", "tree_unflatten"]


def is_batchedtensor(tensor):
    """Whether ``tensor`` is a batched tensor (one example's view inside vmap)."""
    return type(tensor) is BatchedTensor


def get_unwrapped(tensor):
    """The physical tensor a batched tensor views (all examples, the batch along its batch dim)."""
    if type(tensor) is not BatchedTensor:
        raise RuntimeError("get_unwrapped: expected a batched tensor")
    return tensor._value


def _add_batch_dim(tensor, batch_dim, level):
    """``tensor`` seen as one example inside vmap level ``level``, its dim ``batch_dim`` being the batch."""
    return batched(tensor, batch_dim % tensor.dim(), level)


def _remove_batch_dim(tensor, level, batch_size, out_dim):
    """The physical tensor of ``tensor`` at vmap level ``level`` with the batch at ``out_dim`` (``tensor`` expanded
    to ``batch_size`` examples when it is not batched at that level)."""
    return remove_batch_dim(tensor, _Level(level, batch_size, None), out_dim)


def _get_name(func):
    """The name vmap's messages give ``func``."""
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _maybe_remove_batch_dim(name, batched_output, vmap_level, batch_size, out_dim):
    """One output of ``name`` leaving vmap level ``vmap_level``: as it is for ``out_dim`` None (a batched tensor
    is then an error), else its physical tensor with the batch at ``out_dim``."""
    if out_dim is None:
        if isinstance(batched_output, Tensor) and is_batchedtensor(batched_output):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return batched_output
    if not isinstance(batched_output, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(batched_output)}. "
                         "Did you mean to set out_dims= to None for output?")
    return _remove_batch_dim(batched_output, vmap_level, batch_size, out_dim)
