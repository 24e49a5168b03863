"""Shape ops on jagged NestedTensors: views and splits along the non-ragged dims, transposes that move the ragged
dim, unbinding and indexing the batch, concatenation; PyTorch 2.13's rules and errors (its ``ops.py``)."""
import operator
from functools import reduce

from .nested_tensor import NestedTensor, _plain, like, wrap_values


def _torch():
    import ember
    return ember


def wrap_dim(ndim, dim, nt, op, allow_batch=False, allow_ragged=False, inner=True):
    """``dim`` of a tensor of ``ndim`` dims wrapped and (``inner``) moved to the values' dims, PyTorch's
    ``_wrap_jagged_dim``: RuntimeError for the ragged or batch dim unless allowed; with ``allow_batch`` also
    whether it was the batch dim."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    dim %= ndim
    if dim == nt._ragged_idx and not allow_ragged:
        raise RuntimeError(f"{op}(): not supported for NestedTensor on ragged dim")
    if dim == 0 and not allow_batch:
        raise RuntimeError(f"{op}(): not supported for NestedTensor on dim=0")
    result = (nt._ragged_idx - 1 if dim == 0 else dim - 1) if inner else dim
    return (result, dim == 0) if allow_batch else result


def to_inner(nt, dim):
    """An outer dim (already wrapped) as the values' dim: the batch dim maps to the packed one."""
    return nt._ragged_idx - 1 if dim == 0 else dim - 1


def _wrapped(ndim, dim):
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return dim % ndim


def unbind(nt, dim=0):
    """The components of ``nt`` as views of its values."""
    if dim != 0:
        raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
    values, inner = _plain(nt), nt._ragged_idx - 1
    if nt._lengths is None:
        return values.split(nt._sequence_lengths(), inner)
    starts = [int(s) for s in nt._offsets.tolist()]
    return tuple(values.narrow(inner, start, length) for start, length in zip(starts, nt._sequence_lengths()))


def _sizes(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


def _transpose(func, args, kwargs):
    nt, dim0, dim1 = _bind(args, kwargs, ("input", "dim0", "dim1"))
    ndim = nt.dim()
    dim0, dim1 = _wrapped(ndim, dim0), _wrapped(ndim, dim1)
    if nt._ragged_idx in (dim0, dim1):
        if 0 in (dim0, dim1):
            raise ValueError("Transpose is not supported on the batch dimension for jagged NT")
        to_dim = dim1 if dim0 == nt._ragged_idx else dim0
        return like(nt, _plain(nt).transpose(to_inner(nt, dim0), to_inner(nt, dim1)), ragged_idx=to_dim)
    inner0 = wrap_dim(ndim, dim0, nt, "transpose")
    inner1 = wrap_dim(ndim, dim1, nt, "transpose")
    return like(nt, _plain(nt).transpose(inner0, inner1))


def _permute(func, args, kwargs):
    nt = args[0]
    dims = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["dims"])
    ndim = nt.dim()
    if ndim != len(dims):
        raise ValueError(f"permute(): number of dimensions in the tensor input ({ndim}) does not match the length of "
                         f"the desired ordering of dimensions ({len(dims)}).")
    dims = [_wrapped(ndim, d) for d in dims]
    if len(dims) != len(set(dims)):
        raise ValueError("permute(): duplicate dims are not allowed.")
    if nt._lengths is not None:
        raise ValueError("permute(): not supported on jagged layout nested tensor with holes")
    if dims[0] != 0:
        raise ValueError("Permute is not supported on the batch dimension for jagged NT")
    return like(nt, _plain(nt).permute([to_inner(nt, d) for d in dims[1:]]), ragged_idx=dims.index(nt._ragged_idx))


def _view(func, args, kwargs):
    nt = args[0]
    size = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("size", kwargs.get("shape", ())))
    if nt._ragged_idx != 1 and tuple(nt._size) != size:
        raise RuntimeError(f"view(): does not support ragged_idx != 1 except when inp._size == size. inp._size is "
                           f"({tuple(nt._size)}) and size is ({size}).")
    if len(size) < 3 or not _raggedness_matches(nt, size):
        raise RuntimeError(f"view(): cannot view shape {tuple(nt._size)} as {list(size)}")
    inner = [nt._data.shape[i] if i == nt._ragged_idx - 1 else size[i + 1] for i in range(len(size) - 1)]
    values = _plain(nt)
    return like(nt, values.view(inner) if func.__name__.startswith("view") else values.reshape(inner))


def _raggedness_matches(nt, size):
    end = nt._ragged_idx + 1
    return len(size) >= end and all(n == s or s == -1 for n, s in zip(nt._size[:end], size[:end]))


def _unsqueeze(func, args, kwargs):
    nt, dim = _bind(args, kwargs, ("input", "dim"))
    inner = wrap_dim(nt.dim() + 1, dim, nt, "unsqueeze", allow_ragged=True)
    ragged = nt._ragged_idx + 1 if inner <= nt._ragged_idx - 1 else nt._ragged_idx
    return like(nt, _plain(nt).unsqueeze(inner), ragged_idx=ragged)


def _squeeze(func, args, kwargs):
    nt, dim = _bind(args, kwargs, ("input", "dim"))
    if dim is None:
        raise NotImplementedError("aten.squeeze.default")
    return like(nt, _plain(nt).squeeze(wrap_dim(nt.dim(), dim, nt, "squeeze")))


def _flatten(func, args, kwargs):
    nt, start, end = _bind(args, kwargs, ("input", "start_dim", "end_dim"), (0, -1))
    ndim = nt.dim()
    start = wrap_dim(ndim, start, nt, "flatten", inner=False)
    end = wrap_dim(ndim, end, nt, "flatten", inner=False)
    if start == end:
        return nt
    if start < nt._ragged_idx < end:
        raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    product = reduce(operator.mul, nt._size[start:end + 1])
    return _view(_torch().Tensor.reshape, (nt, *nt._size[:start], product, *nt._size[end + 1:]), {})


def _unflatten(func, args, kwargs):
    nt, dim, sizes = _bind(args, kwargs, ("input", "dim", "sizes"))
    ndim = nt.dim()
    wrapped = _wrapped(ndim, dim)
    if wrapped == nt._ragged_idx:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({nt._size[wrapped]}) in the input tensor")
    inner = wrap_dim(ndim, dim, nt, "unflatten")
    ragged = nt._ragged_idx + len(sizes) - 1 if wrapped < nt._ragged_idx else nt._ragged_idx
    return like(nt, _plain(nt).unflatten(inner, sizes), ragged_idx=ragged)


def _expand(func, args, kwargs):
    nt = args[0]
    size = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["size"])
    if not _raggedness_matches(nt, size):
        raise RuntimeError(f"expand(): cannot expand shape {tuple(nt._size)} -> {list(size)}")
    return like(nt, _plain(nt).expand([-1 if d == nt._ragged_idx else size[d] for d in range(1, nt.dim())]))


def _expand_as(func, args, kwargs):
    dense, other = _bind(args, kwargs, ("input", "other"))
    if isinstance(dense, NestedTensor):
        return _expand(func, (dense, *other._size), {})
    return like(other, dense.expand_as(_plain(other)))


def _narrow(func, args, kwargs):
    nt, dim, start, length = _bind(args, kwargs, ("input", "dim", "start", "length"))
    return like(nt, _plain(nt).narrow(wrap_dim(nt.dim(), dim, nt, "narrow"), start, length))


def _split(func, args, kwargs):
    nt, sizes, dim = _bind(args, kwargs, ("input", "split_size_or_sections", "dim"), (0,))
    inner = wrap_dim(nt.dim(), dim, nt, "split_with_sizes" if isinstance(sizes, (list, tuple)) else "split")
    return tuple(like(nt, part) for part in _plain(nt).split(sizes, inner))


def _chunk(func, args, kwargs):
    nt, chunks, dim = _bind(args, kwargs, ("input", "chunks", "dim"), (0,))
    inner, on_batch = wrap_dim(nt.dim(), dim, nt, "chunk", allow_batch=True)
    if not on_batch:
        return tuple(like(nt, part) for part in _plain(nt).chunk(chunks, inner))
    torch = _torch()
    lengths = torch.tensor(nt._sequence_lengths(), dtype=torch.int64)
    parts = []
    start = 0
    for chunk_lengths in lengths.chunk(chunks):
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), chunk_lengths.cumsum(0)]).to(nt._offsets.device)
        count = int(chunk_lengths.sum())
        values = _plain(nt).narrow(nt._ragged_idx - 1, start, count)
        parts.append(wrap_values(values, offsets, None, nt._ragged_idx))
        start += count
    return parts


def _select(func, args, kwargs):
    nt, dim, index = _bind(args, kwargs, ("input", "dim", "index"))
    inner, on_batch = wrap_dim(nt.dim(), dim, nt, "select", allow_batch=True)
    if on_batch:
        return unbind(nt)[index]
    if nt._lengths is not None:
        raise ValueError("select(): not yet supported on dim != 0 for non-contiguous nested tensor with holes")
    ragged = nt._ragged_idx - 1 if inner < nt._ragged_idx - 1 else nt._ragged_idx
    return like(nt, _plain(nt).select(inner, index), ragged_idx=ragged)


def _getitem(func, args, kwargs):
    nt, key = args[0], args[1]
    if isinstance(key, int) and not isinstance(key, bool):
        return unbind(nt)[key]
    if isinstance(key, tuple) and key and isinstance(key[0], int) and not isinstance(key[0], bool):
        return unbind(nt)[key[0]][key[1:]]
    if isinstance(key, tuple) and key and key[0] is Ellipsis and Ellipsis not in key[1:]:
        result, dim = nt, nt.dim() - len(key) + 1
        for item in key[1:]:   # trailing dims: select an int, narrow a slice with step 1
            if isinstance(item, int) and not isinstance(item, bool):
                result = _select(func, (result, dim, item), {})
                continue
            if isinstance(item, slice) and item.step in (None, 1):
                start, stop, _ = item.indices(result._size[dim])
                result = _narrow(func, (result, dim, start, max(stop - start, 0)), {})
                dim += 1
                continue
            break
        else:
            return result
    raise RuntimeError("slice(): not supported for NestedTensor on dim=0")


def _cat(func, args, kwargs):
    tensors, dim = _bind(args, kwargs, ("tensors", "dim"), (0,))
    nested = [t for t in tensors if isinstance(t, NestedTensor)]
    first = nested[0]
    inner = wrap_dim(first.dim(), dim, first, "cat")
    parts = [_plain(t) if isinstance(t, NestedTensor) else t.expand_as(first)._values for t in tensors]
    return like(first, _torch().cat(parts, inner))


def _stack(func, args, kwargs):
    tensors, dim = _bind(args, kwargs, ("tensors", "dim"), (0,))
    for t in tensors:
        if not isinstance(t, NestedTensor):
            raise RuntimeError("stack(): expected all nested tensors inputs")
        if t.dim() != tensors[0].dim():
            raise RuntimeError("stack(): expected all nested tensors to have the same dim")
        if not _raggedness_matches(t, tensors[0]._size):
            raise RuntimeError("stack(): expected all nested tensors to have the same nested structure")
    first = tensors[0]
    inner = wrap_dim(first.dim() + 1, dim, first, "stack")
    return like(first, _torch().stack([_plain(t) for t in tensors], inner))


def _contiguous(func, args, kwargs):
    nt = args[0]
    if nt._lengths is None:
        return like(nt, _plain(nt).contiguous())
    torch = _torch()
    parts = [part.contiguous() for part in unbind(nt)]
    values = torch.cat(parts, nt._ragged_idx - 1)
    offsets = torch.tensor([0] + nt._sequence_lengths(), dtype=torch.int64, device=nt._offsets.device).cumsum(0)
    return wrap_values(values, offsets, None, nt._ragged_idx, nt._metadata_cache)


def _bind(args, kwargs, names, defaults=()):
    """Positional and keyword arguments as values in ``names``' order; the last ones default to ``defaults``."""
    values = list(args[:len(names)])
    for position in range(len(values), len(names)):
        name = names[position]
        if name in kwargs:
            values.append(kwargs[name])
        elif name == "split_size_or_sections" and "split_size" in kwargs:
            values.append(kwargs["split_size"])
        elif position >= len(names) - len(defaults):
            values.append(defaults[position - (len(names) - len(defaults))])
        else:
            values.append(None)
    return values


HANDLERS = {"transpose": _transpose, "swapaxes": _transpose, "swapdims": _transpose, "permute": _permute,
            "view": _view, "reshape": _view, "unsqueeze": _unsqueeze, "squeeze": _squeeze, "flatten": _flatten,
            "unflatten": _unflatten,
            "expand": _expand, "expand_as": _expand_as, "broadcast_to": _expand, "narrow": _narrow, "split": _split,
            "chunk": _chunk, "select": _select, "__getitem__": _getitem, "cat": _cat, "concat": _cat,
            "concatenate": _cat, "stack": _stack, "contiguous": _contiguous,
            "unbind": lambda func, args, kwargs: unbind(*args, **kwargs)}
