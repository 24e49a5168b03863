"""Layers' functions on jagged NestedTensors: linear and matmul with a dense operand, normalization over the
trailing dims, embedding lookups and ``where``, by PyTorch 2.13's rules (its ``ops.py``)."""
from .nested_tensor import NestedTensor, _plain, like
from .ops import values_of
from .ops_shape import _bind, _raggedness_matches, unbind


def _torch():
    import ember
    return ember


def _on_values(func, args, kwargs):
    """``func`` on the first argument's values, the other arguments as given (a dense weight, ...)."""
    return like(args[0], func(_plain(args[0]), *values_of(args[1:]), **values_of(kwargs)))


def _matmul(func, args, kwargs):
    a, b = _bind(args, kwargs, ("input", "other"))
    a_nt, b_nt = isinstance(a, NestedTensor), isinstance(b, NestedTensor)
    if a_nt and not b_nt:
        if a.dim() >= 3 and a.dim() == b.dim() and a._ragged_idx < a.dim() - 1:
            return _padded(func, a, b, a)
        if b.dim() == 2 and a.dim() > b.dim() and a._ragged_idx < a.dim() - 1:
            return like(a, func(_plain(a), b))
    elif b_nt and not a_nt:
        if b.dim() >= 3 and b.dim() == a.dim() and b._ragged_idx >= 2:
            return _padded(func, a, b, b)
        if a.dim() == 2 and b.dim() > a.dim() and b._ragged_idx >= 2:
            return like(b, func(a, _plain(b)))
    elif a_nt and b_nt:
        if a.dim() > 3 and b.dim() > 3 and _raggedness_matches(a, b._size):
            return like(a, func(_plain(a), _plain(b)))
        if a.dim() == 3 and b.dim() == 3 and a._ragged_idx == 2 and b._ragged_idx == 1 and \
                a._size[2] == b._size[1]:
            return _torch().stack([func(x, y) for x, y in zip(unbind(a), unbind(b))])
    raise RuntimeError(f"matmul(): not supported between inputs of shapes {tuple(a._size) if a_nt else a.shape} "
                       f"and {b.shape}")


def _padded(func, a, b, nt):
    """``func(a, b)`` with the NestedTensor ``nt`` among them padded with zeros, the result back as ``nt``'s."""
    from .padding import from_padded, to_padded
    padded = to_padded(nt, 0.0)
    return from_padded(func(padded, b) if nt is a else func(a, padded), nt)


def _bmm(func, args, kwargs):
    a, b = _bind(args, kwargs, ("input", "mat2"))
    if a.dim() != 3:
        raise ValueError("bmm(): input must be 3D")
    if b.dim() != 3:
        raise ValueError("bmm(): mat2 must be 3D")
    return _matmul(_torch().matmul, (a, b), {})


def _layer_norm(func, args, kwargs):
    nt = args[0]
    if nt.dim() <= 2:
        raise RuntimeError("layer_norm(): not supported for NestedTensor objects with 2 or fewer dimensions")
    return _on_values(func, args, kwargs)


def _rms_norm(func, args, kwargs):
    nt, normalized_shape = _bind(args, kwargs, ("input", "normalized_shape"))
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    if len(normalized_shape) > nt.dim() - nt._ragged_idx - 1:
        raise ValueError("rms_norm(): Normalization over the ragged dim not supported for nested tensors")
    return _on_values(func, args, kwargs)


def _where(func, args, kwargs):
    """PyTorch's ``where_self``: the tensors broadcast as its NJT ``broadcast_tensors`` does (nested ones to one
    structure, dense ones of lower dim against the values), then ``where`` on the values."""
    condition = args[0]
    if not isinstance(condition, NestedTensor):
        raise NotImplementedError("aten.where.self")
    tensors = [a for a in args[:3] if isinstance(a, _torch().Tensor)]
    shape = _broadcast_shape([t.shape for t in tensors])
    operands = []
    for operand in args[1:3]:
        if isinstance(operand, NestedTensor):
            operand = _plain(operand)
        elif isinstance(operand, _torch().Tensor):
            if operand.dim() >= len(shape):
                raise ValueError("broadcast_tensors(): broadcasting nested tensors with dense tensors of equal or "
                                 "higher dim is not currently supported")
            operand = operand.broadcast_to(condition._data.shape)
        operands.append(operand)
    return like(condition, func(_plain(condition), *operands, **values_of(kwargs)))


def _broadcast_shape(shapes):
    """``torch.broadcast_shapes`` over shapes holding nested ints (equal only to themselves), with its error."""
    result = []
    for index, shape in enumerate(shapes):
        merged = list(result)
        if len(shape) > len(merged):
            merged = list(shape[:len(shape) - len(merged)]) + merged
        for back in range(1, len(shape) + 1):
            have, size = merged[-back], shape[-back]
            if size == have or size == 1:
                continue
            if have == 1 or back > len(result):
                merged[-back] = size
                continue
            raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at {-back}! Mismatching "
                               f"argument at index {index} had {shape}; but expected shape should be broadcastable "
                               f"to {list(result)}")
        result = merged
    return result


def _new_like(func, args, kwargs):
    nt = args[0]
    size = args[1:] if len(args) > 1 else kwargs.get("size", ())
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if size:
        raise RuntimeError("new_empty() not supported for NJT with shape != ()")
    return func(_plain(nt), *args[1:], **kwargs)


def _embedding(func, args, kwargs):
    indices = args[0]
    if not isinstance(indices, NestedTensor):
        raise NotImplementedError("aten.embedding.default")
    return _on_values(func, args, kwargs)


HANDLERS = {"linear": _on_values, "matmul": _matmul, "bmm": _bmm, "layer_norm": _layer_norm, "rms_norm": _rms_norm,
            "where": _where, "embedding": _embedding, "new_empty": _new_like, "new_zeros": _new_like,
            "new_ones": _new_like}
