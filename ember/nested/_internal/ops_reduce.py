"""Reductions and softmax on jagged NestedTensors, PyTorch 2.13's ``_apply_reduction`` rules: over everything, or
the batch and ragged dims together, a dense result of the values; over the ragged dim alone, each component's
(a dense (B, ...) result, through a padded tensor filled with the reduction's identity); over other dims, a
NestedTensor; the batch dim without the ragged one is refused."""
from .nested_tensor import _plain, like
from .ops_shape import _bind


def _torch():
    import ember
    return ember


def _dims(nt, dim, op):
    """``(inner dims, on batch, on ragged, on other dims)`` for the outer ``dim`` (an int or a sequence)."""
    ndim = nt.dim()
    wrapped = []
    for d in dim:
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
        wrapped.append(d % ndim)
    inner = tuple(dict.fromkeys(nt._ragged_idx - 1 if d == 0 else d - 1 for d in wrapped))
    return (inner, 0 in wrapped, nt._ragged_idx in wrapped,
            any(d not in (0, nt._ragged_idx) for d in wrapped))


def _unsqueeze_all(out, dim):
    if isinstance(out, tuple):
        return type(out)(*(o.unsqueeze(dim) for o in out)) if hasattr(out, "_fields") else tuple(
            o.unsqueeze(dim) for o in out)
    return out.unsqueeze(dim)


def _reduction(op, identity, one_dim=False):
    """The handler for reduction ``op`` whose padding value over the ragged dim is ``identity``(dtype)."""

    def handler(func, args, kwargs):
        nt = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        rest = {k: v for k, v in kwargs.items() if k != "dim"}
        if len(args) > 2:
            rest["keepdim"] = args[2]
        values = _plain(nt)
        method = getattr(values, op)
        if dim is None or isinstance(dim, (tuple, list)) and not dim:
            out = method(**rest)
            return _unsqueeze_all(out, nt._ragged_idx) if rest.get("keepdim") else out
        is_list = isinstance(dim, (tuple, list))
        inner, on_batch, on_ragged, on_other = _dims(nt, dim if is_list else [dim], op)
        if on_ragged and nt._lengths is not None:
            raise RuntimeError(f"{op}(): reducing across the ragged dimension is not supported for non-contiguous "
                               "nested tensors with holes")
        if on_ragged and on_batch:
            out = getattr(values, op)(inner if is_list else inner[0], **rest)
            return _unsqueeze_all(out, 0) if rest.get("keepdim") else out
        if on_ragged:
            if on_other:
                raise RuntimeError(f"{op}(): reducing along a ragged and non-batch dimension is not supported for "
                                   "nested tensors")
            from .padding import to_padded
            padded = to_padded(nt, identity(nt.dtype))
            return getattr(padded, op)([nt._ragged_idx] if is_list and not one_dim else nt._ragged_idx, **rest)
        if on_batch:
            raise RuntimeError(f"{op}(): reducing along the batch dimension but not the ragged dimension is not "
                               "supported for nested tensors")
        out = method(inner if is_list else inner[0], **rest)
        ragged = nt._ragged_idx
        if not rest.get("keepdim"):
            ragged -= sum(1 for d in inner if d < nt._ragged_idx - 1)
        if isinstance(out, tuple):
            return type(out)(like(nt, o, ragged) for o in out) if not hasattr(out, "_fields") else type(out)(
                *(like(nt, o, ragged) for o in out))
        return like(nt, out, ragged)

    return handler


def _extreme(sign):
    def identity(dtype):
        if dtype.is_floating_point:
            return sign * float("inf")
        if dtype == _torch().bool:
            return sign < 0
        info = _torch().iinfo(dtype)
        return info.max if sign > 0 else info.min
    return identity


def _mean(func, args, kwargs):
    nt = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if dim is None or isinstance(dim, (tuple, list)) and not dim:
        return _reduction("mean", lambda dtype: 0)(func, args, kwargs)
    is_list = isinstance(dim, (tuple, list))
    _, on_batch, on_ragged, on_other = _dims(nt, dim if is_list else [dim], "mean")
    if not on_ragged or on_batch:
        return _reduction("mean", lambda dtype: 0)(func, args, kwargs)
    if on_other:
        raise AssertionError("Cannot reduce on both ragged and non-batch dimensions without also reducing on batch")
    rest = {k: v for k, v in kwargs.items() if k not in ("dim", "keepdim")}
    total = _reduction("sum", lambda dtype: 0)(func, (nt, dim, True), rest)
    torch = _torch()
    lengths = torch.tensor(nt._sequence_lengths(), device=total.device)
    out = total / lengths.reshape(-1, *[1] * (total.dim() - 1))
    return out if keepdim else out.squeeze(nt._ragged_idx)


def _softmax(name):
    def handler(func, args, kwargs):
        nt, dim = _bind(args, kwargs, ("input", "dim"))
        if isinstance(dim, tuple):
            raise RuntimeError(f"{name}(): not supported for dimensions of type 'tuple' for NestedTensor")
        inner, on_batch, on_ragged, _ = _dims(nt, [dim], name)
        if on_batch:
            raise RuntimeError(f"{name}(): not supported when reducing across the batch dimension for NestedTensor")
        if on_ragged and name == "log_softmax":
            raise RuntimeError("log_softmax(): not supported when reducing along the ragged dimension for NestedTensor")
        if on_ragged and nt._ragged_idx > 1:
            raise RuntimeError("softmax(): not supported when reducing along the ragged dimension for ragged_idx > 1 "
                               "for NestedTensor")
        if on_ragged and nt._lengths is not None:
            raise RuntimeError("softmax(): not supported where lengths is not None if reducing across the ragged "
                               "dimension for NestedTensor")
        dtype = kwargs.get("dtype")
        op = getattr(_torch().nn.functional, name)
        if on_ragged:
            from .padding import from_padded, to_padded
            return from_padded(op(to_padded(nt, float("-inf")), dim=1, dtype=dtype), nt)
        return like(nt, op(_plain(nt), dim=inner[0], dtype=dtype))
    return handler


HANDLERS = {"sum": _reduction("sum", lambda dtype: 0), "mean": _mean, "prod": _reduction("prod", lambda dtype: 1),
            "amax": _reduction("amax", _extreme(-1)), "amin": _reduction("amin", _extreme(1)),
            "max": _reduction("max", _extreme(-1), True), "min": _reduction("min", _extreme(1), True),
            "argmax": _reduction("argmax", _extreme(-1), True), "argmin": _reduction("argmin", _extreme(1), True),
            "any": _reduction("any", lambda dtype: False, True), "all": _reduction("all", lambda dtype: True, True),
            "softmax": _softmax("softmax"), "log_softmax": _softmax("log_softmax")}
