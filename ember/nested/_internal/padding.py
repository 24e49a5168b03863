"""Jagged <-> padded dense conversions, differentiable (index_put and advanced indexing), for
``to_padded_tensor``, ops over the ragged dim, dense operands with a batch dim, and attention."""
from .nested_tensor import _plain, like, wrap_values


def _torch():
    import ember
    return ember


def positions(nt):
    """``(batch, position, packed)``: for each element of the packed dim its component, its place in the component
    and its index in the values' packed dim (int64 tensors on the values' device)."""
    torch = _torch()
    device = nt._offsets.device
    lengths = torch.tensor(nt._sequence_lengths(), dtype=torch.int64, device=device)
    starts = nt._offsets[:-1].to(torch.int64)
    batch = torch.repeat_interleave(torch.arange(len(lengths), device=device), lengths)
    packed_start = torch.repeat_interleave(starts, lengths)
    first = torch.repeat_interleave(lengths.cumsum(0) - lengths, lengths)
    position = torch.arange(int(lengths.sum()), device=device) - first
    return batch, position, packed_start + position


def packed_first(nt):
    """``nt``'s values with the packed dim moved to the front (a view)."""
    values = _plain(nt)
    return values if nt._ragged_idx == 1 else values.movedim(nt._ragged_idx - 1, 0)


def to_padded(nt, padding, max_len=None):
    """``nt`` as a dense (B, ..., L, ...) tensor, the ragged dim padded with ``padding`` to ``max_len`` (default the
    longest component; shorter truncates, as PyTorch's kernel does)."""
    torch = _torch()
    batch, position, packed = positions(nt)
    values = packed_first(nt)
    if nt._lengths is not None:
        values = values[packed]
    if max_len is None:
        max_len = nt._max_seqlen
    if max_len < nt._max_seqlen:   # PyTorch's kernel truncates
        kept = position < max_len
        batch, position, values = batch[kept], position[kept], values[kept]
    shape = (len(nt), max_len, *values.shape[1:])
    padded = torch.full(shape, padding, dtype=values.dtype, device=values.device)
    padded = padded.index_put((batch, position), values)
    return padded if nt._ragged_idx == 1 else padded.movedim(1, nt._ragged_idx)


def from_padded(padded, nt):
    """The jagged values of a dense (B, ..., L, ...) tensor laid out as ``nt`` (its ragged dim at the same place),
    as a NestedTensor with ``nt``'s structure (without its holes, if it has any: components packed one after
    another)."""
    batch, position, _ = positions(nt)
    if nt._ragged_idx != 1:
        padded = padded.movedim(nt._ragged_idx, 1)
    values = padded[batch, position]
    if nt._ragged_idx != 1:
        values = values.movedim(0, nt._ragged_idx - 1)
    if nt._lengths is not None:
        torch = _torch()
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64, device=nt._lengths.device),
                             nt._lengths.to(torch.int64).cumsum(0)])
        return wrap_values(values, offsets, None, nt._ragged_idx, nt._metadata_cache)
    return like(nt, values)


def dense_as_nested(dense, nt):
    """A dense tensor of ``nt``'s dim whose ragged dim has size 1, broadcast over each component as an NJT."""
    batch, _, _ = positions(nt)
    values = dense.select(nt._ragged_idx, 0).movedim(0, nt._ragged_idx - 1)
    values = values.index_select(nt._ragged_idx - 1, batch)
    return like(nt, values)


def key_padding_mask(nt):
    """A (B, L) bool tensor: True at each component's real positions along the ragged dim."""
    torch = _torch()
    lengths = torch.tensor(nt._sequence_lengths(), dtype=torch.int64, device=nt._offsets.device)
    return torch.arange(nt._max_seqlen, device=lengths.device)[None, :] < lengths[:, None]
