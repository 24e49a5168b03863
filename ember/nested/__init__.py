"""``torch.nested``: nested (ragged) tensors, a batch of tensors whose sizes differ along one dim.

The jagged layout (``layout=torch.jagged``, PyTorch's recommended one) is a Tensor subclass over one values buffer
and offsets (``_internal/nested_tensor.py``); ops follow PyTorch 2.13's rules for it (``_internal/ops*.py``,
``_internal/sdpa.py``), with gradients through ember's autograd. The strided layout (the default) holds the
components' shapes per component (``_internal/strided.py``)."""
from ._internal import nested_tensor as _nested_tensor
from ._internal.nested_tensor import NestedTensor as _NestedTensor, jagged_from_list, nested_view_from_values_offsets

__all__ = ["to_padded_tensor", "as_nested_tensor", "nested_tensor", "nested_tensor_from_jagged", "narrow",
           "masked_select"]


def _torch():
    import ember
    return ember


def _check_layout(layout, what="nested tensors"):
    torch = _torch()
    if layout not in (torch.strided, torch.jagged):
        raise RuntimeError(f"Specified layout is unsupported for {what}: {layout}")


def as_nested_tensor(ts, dtype=None, device=None, layout=None):
    """A nested tensor keeping autograd history from a list/tuple of tensors (copied) or a tensor whose dim 0 is the
    batch (a view where no conversion is needed)."""
    torch = _torch()
    is_list = isinstance(ts, (list, tuple)) and all(isinstance(t, torch.Tensor) for t in ts)
    if not isinstance(ts, torch.Tensor) and not is_list:
        raise TypeError("as_nested_tensor(): Expected first argument to be a tensor or a list / tuple of tensors ")
    if is_list:
        ts = list(ts)
    if isinstance(ts, torch.Tensor) and ts.dim() < 2:
        raise RuntimeError("as_nested_tensor(): Expected tensor argument to have dim() > 1")
    if isinstance(ts, torch.Tensor) and ts.is_nested:
        if layout == ts.layout:
            return ts.to(device=device, dtype=dtype)
        raise RuntimeError("as_nested_tensor(): Converting between nested tensor layouts is not supported")
    layout = torch.strided if layout is None else layout
    _check_layout(layout)
    if layout == torch.strided:
        from ._internal.strided import strided_from_list
        components = list(ts.unbind(0)) if isinstance(ts, torch.Tensor) else ts
        return strided_from_list(components, dtype=dtype, device=device)
    if isinstance(ts, torch.Tensor):
        values = ts.contiguous().flatten(0, 1).to(device=device or ts.device, dtype=dtype)
        batch, length = ts.shape[0], ts.shape[1]
        offsets = torch.arange(0, batch * length + 1, length, device=values.device, dtype=torch.int64)
        return nested_view_from_values_offsets(values, offsets, min_seqlen=length, max_seqlen=length)
    return jagged_from_list(ts, dtype=dtype, device=device)


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A nested tensor without autograd history (a leaf) copied from a list of tensors or array-likes of one dim."""
    torch = _torch()
    layout = torch.strided if layout is None else layout
    _check_layout(layout)
    tensors = [t if isinstance(t, torch.Tensor) else torch.as_tensor(t) for t in tensor_list]
    with torch.no_grad():
        if layout == torch.jagged:
            nt = jagged_from_list([t.detach() for t in tensors], dtype=dtype, device=device)
        else:
            from ._internal.strided import strided_from_list
            nt = strided_from_list([t.detach() for t in tensors], dtype=dtype, device=device)
    nt.requires_grad_(requires_grad)
    if pin_memory:
        nt = nt.pin_memory()
    return nt


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None, min_seqlen=None,
                              max_seqlen=None):
    """A jagged nested tensor viewing ``values`` (packed along ``jagged_dim - 1``), split by ``offsets`` (B + 1
    starts) and/or ``lengths`` (B lengths; with offsets, a nested tensor with holes)."""
    torch = _torch()
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or lengths is required.")
        offsets = torch.nn.functional.pad(lengths.cumsum(0), (1, 0))
        lengths = None
    if jagged_dim is None:
        jagged_dim = 1
    elif jagged_dim < 1:
        raise ValueError(f"Expected jagged_dim >=1, but got {jagged_dim}.")
    return nested_view_from_values_offsets(values, offsets, lengths, jagged_dim, min_seqlen, max_seqlen)


def narrow(tensor, dim, start, length, layout=None):
    """A nested tensor of each batch element's slice ``[start, start + length)`` along ``dim`` (``start`` and
    ``length`` ints or per-element tensors); the jagged layout views ``tensor``, the strided one copies."""
    torch = _torch()
    layout = torch.strided if layout is None else layout
    if not isinstance(start, (int, torch.Tensor)):
        raise RuntimeError("start must be an integer or a tensor")
    if not isinstance(length, (int, torch.Tensor)):
        raise RuntimeError("length must be an integer or a tensor")
    if layout == torch.strided:
        if isinstance(start, torch.Tensor) or isinstance(length, torch.Tensor):
            raise RuntimeError("start and length must be integers for the strided layout NT impl")
        return as_nested_tensor(list(tensor.unbind(0)), layout=torch.strided).narrow(dim, start, length)
    if layout != torch.jagged:
        raise RuntimeError(f"Specified layout is unsupported for nested narrow: {layout}")
    if dim != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    return _jagged_narrow(tensor, start, length)


def _jagged_narrow(tensor, start, length):
    torch = _torch()
    if not isinstance(start, torch.Tensor):
        start = torch.tensor([start], device=tensor.device, dtype=torch.int64)
    if not isinstance(length, torch.Tensor):
        length = torch.tensor([length], device=tensor.device, dtype=torch.int64)
    batch = tensor.shape[0]
    try:
        starts, lengths = start.expand(batch), length.expand(batch)
    except RuntimeError:
        raise RuntimeError("When constructing a jagged nested tensor using narrow(), your start and length must be "
                           "Tensors that broadcast to input.shape[0]") from None
    if tensor.dim() < 2:
        raise AssertionError("tensor must at least be 2D for the nested narrow op to work")
    row = tensor.shape[1]
    shifts = row * torch.arange(0, batch, dtype=torch.int64, device=tensor.device)
    offsets = torch.cat([starts + shifts, (starts[-1] + shifts[-1] + lengths[-1]).unsqueeze(0)])
    values = tensor.view(-1, *tensor.shape[2:])
    contiguous = not (bool(lengths[1:-1].ne(row).any()) or bool(offsets[1:-2].diff().ne(row).any())
                      or int(offsets[0] + lengths[0]) != row)
    low, high = int(lengths.min()), int(lengths.max())
    if contiguous:
        first, last = int(offsets[0]), int(offsets[-1])
        return nested_view_from_values_offsets(values[first:last], offsets - first, min_seqlen=low, max_seqlen=high)
    return nested_view_from_values_offsets(values, offsets, lengths, 1, low, high)


def to_padded_tensor(input, padding, output_size=None, out=None):
    """A dense tensor of ``input``'s components padded with ``padding`` (to ``output_size`` where given)."""
    if isinstance(input, _NestedTensor):
        if input._lengths is not None:
            raise RuntimeError("to_padded_tensor(): not supported for nested tensors with holes")
        from ._internal.padding import to_padded
        if output_size is not None:
            length = output_size[input._ragged_idx]
        else:   # PyTorch's: the cached longest length, else the values' first dim
            length = input._metadata_cache.get("max_seqlen", input._data.shape[0])
        result = to_padded(input, padding, length)
    else:
        from ._internal.strided import to_padded_strided
        result = to_padded_strided(input, padding, output_size)
    if out is not None:
        out.resize_(result.shape).copy_(result)
        return out
    return result


def masked_select(tensor, mask):
    """A jagged nested tensor of ``tensor``'s elements where ``mask`` is True, one component per row (the last
    dim ragged)."""
    torch = _torch()
    if tensor.layout != torch.strided:
        raise RuntimeError(f"torch.nested.masked_select requires a strided tensor, given {tensor.layout}")
    if mask.layout != torch.strided:
        raise RuntimeError(f"torch.nested.masked_select requires a strided mask, given: {mask.layout}")
    values = tensor.masked_select(mask)
    lengths = mask.expand(tensor.shape).sum(dim=tensor.ndim - 1).view(-1)
    return nested_view_from_values_offsets(values, torch.nn.functional.pad(lengths.cumsum(dim=0), (1, 0)))


def _mark_safe():
    """The globals a weights-only load of a nested tensor names, marked safe as PyTorch marks them on import."""
    from ._internal.strided import rebuild_nested_tensor
    from .._dynamo.decorators import _DimRange   # on PyTorch's cached sequence lengths
    _torch().serialization.add_safe_globals([_NestedTensor, _nested_tensor._rebuild_njt, _DimRange,
                                             (rebuild_nested_tensor, "torch._utils._rebuild_nested_tensor")])


_mark_safe()
