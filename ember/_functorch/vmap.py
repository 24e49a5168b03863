"""``torch._functorch.vmap``: vmap's implementation, as PyTorch's module-level functions that call each other by
name at call time (``vmap_impl`` -> ``_process_batched_inputs`` -> ``_flat_vmap`` -> ``_create_batched_inputs`` ->
``_unwrap_batched``), so libraries that replace them (tensordict, for TensorDict inputs) change what vmap does; on
ember's batched tensors (``ember.func._vmap``: a physical tensor, its batch dim and its vmap level)."""
import functools
import itertools

from .._tensor import Tensor
from ..func._vmap import BatchedTensor, _Level, batched, remove_batch_dim, vmap_increment_nesting
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_map_, tree_unflatten

__all__ = ["Tensor", "_add_batch_dim", "_broadcast_to_and_flatten", "_create_batched_inputs", "_flat_vmap",
           "_get_name", "_maybe_remove_batch_dim", "_process_batched_inputs", "_remove_batch_dim", "_unwrap_batched",
           "is_batchedtensor", "tree_flatten", "tree_unflatten", "vmap_impl", "vmap_increment_nesting"]


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


def _validate_and_get_batch_size(flat_in_dims, flat_args):
    """The size of the mapped dimension, the same for every mapped input."""
    sizes = [arg.size(in_dim) for in_dim, arg in zip(flat_in_dims, flat_args) if in_dim is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0]


def _process_batched_inputs(in_dims, args, func):
    """(batch size, flat in_dims (non-negative), flat args, args' tree spec) of a vmap call, the inputs checked."""
    name = _get_name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         "trying to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = _broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {args_spec}.")
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if in_dim is None:
            continue
        if not isinstance(in_dim, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but "
                             "in_dim must be either an integer dimension or None.")
        if not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but "
                             f"the input is of type {type(arg)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        if not -arg.dim() <= in_dim < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for some input, "
                             f"but that input is a Tensor of dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        flat_in_dims[i] = in_dim % arg.dim()
    return _validate_and_get_batch_size(flat_in_dims, flat_args), flat_in_dims, flat_args, args_spec


def _create_batched_inputs(flat_in_dims, flat_args, vmap_level, args_spec):
    """The arguments rebuilt with every mapped input a batched tensor at ``vmap_level``."""
    batched_inputs = [arg if in_dim is None else _add_batch_dim(arg, in_dim, vmap_level)
                      for in_dim, arg in zip(flat_in_dims, flat_args)]
    return tree_unflatten(batched_inputs, args_spec)


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


def _flat_out_dims(outputs, output_spec, out_dims):
    """One out_dim per leaf of ``outputs`` (None where ``out_dims`` does not fit their structure); a lone tensor
    also takes a one-element tuple, as PyTorch's."""
    if isinstance(outputs, Tensor):
        if out_dims is None or isinstance(out_dims, int):
            return [out_dims]
        return list(out_dims) if isinstance(out_dims, tuple) and len(out_dims) == 1 else None
    return _broadcast_to_and_flatten(out_dims, output_spec)


def _unwrap_batched(batched_outputs, out_dims, vmap_level, batch_size, func):
    """``func``'s outputs with the batch of ``vmap_level`` moved out to ``out_dims`` (a prefix of their tree)."""
    flat_outputs, output_spec = tree_flatten(batched_outputs)

    def incompatible():
        return ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
                          f"with the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but "
                          f"outputs has structure {output_spec}.")
    flat_out_dims = _flat_out_dims(batched_outputs, output_spec, out_dims)
    if flat_out_dims is None:
        raise incompatible()
    name = _get_name(func)
    return tree_unflatten([_maybe_remove_batch_dim(name, output, vmap_level, batch_size, out_dim)
                           for output, out_dim in zip(flat_outputs, flat_out_dims)], output_spec)


def _check_out_dims_is_int_or_int_pytree(out_dims, func):
    def check(x):
        if x is not None and not isinstance(x, int):
            raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or "
                             "a python collection of ints representing where in the outputs the vmapped dimension "
                             "should appear.")
    if not isinstance(out_dims, int):
        tree_map_(check, out_dims)


def vmap_impl(func, in_dims, out_dims, randomness, chunk_size, *args, **kwargs):
    """``vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)(*args, **kwargs)``."""
    _check_out_dims_is_int_or_int_pytree(out_dims, func)
    batch_size, flat_in_dims, flat_args, args_spec = _process_batched_inputs(in_dims, args, func)
    if chunk_size is not None:
        chunks = _get_chunked_inputs(flat_args, flat_in_dims, batch_size, chunk_size)
        return _chunked_vmap(func, flat_in_dims, chunks, args_spec, out_dims, randomness, **kwargs)
    return _flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, **kwargs)


def _get_chunked_inputs(flat_args, flat_in_dims, batch_size, chunk_size):
    """The flat arguments of each chunk of ``chunk_size`` examples (the last one may be shorter, or empty)."""
    sizes = [chunk_size] * (batch_size // chunk_size) + ([batch_size % chunk_size] if batch_size % chunk_size else [])
    split = tuple(itertools.accumulate(sizes))
    return zip(*(arg.tensor_split(split, dim=in_dim) if in_dim is not None else [arg] * len(split)
                 for arg, in_dim in zip(flat_args, flat_in_dims)))


def _chunked_vmap(func, flat_in_dims, chunks_flat_args, args_spec, out_dims, randomness, **kwargs):
    """vmap over one chunk after another, the outputs joined along their out_dims; randomness='same' draws the
    same numbers in every chunk."""
    from .. import cat, get_rng_state, set_rng_state
    state = get_rng_state() if randomness == "same" else None
    outputs = []
    for flat_args in chunks_flat_args:
        flat_args = list(flat_args)
        batch_size = _validate_and_get_batch_size(flat_in_dims, flat_args)
        if batch_size == 0:
            continue
        if state is not None:
            set_rng_state(state)
        outputs.append(_flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness,
                                  **kwargs))
    flat_chunks = [tree_flatten(output)[0] for output in outputs]
    spec = tree_flatten(outputs[0])[1]
    flat_out_dims = _flat_out_dims(outputs[0], spec, out_dims)
    return tree_unflatten([cat(list(column), dim=out_dim)
                           for column, out_dim in zip(zip(*flat_chunks), flat_out_dims)], spec)


def _flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, **kwargs):
    """``func`` run once on the batched inputs inside a new vmap level, its outputs unbatched."""
    with vmap_increment_nesting(batch_size, randomness) as vmap_level:
        batched_inputs = _create_batched_inputs(flat_in_dims, flat_args, vmap_level, args_spec)
        batched_outputs = func(*batched_inputs, **kwargs)
        return _unwrap_batched(batched_outputs, out_dims, vmap_level, batch_size, func)
