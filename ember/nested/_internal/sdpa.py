"""``scaled_dot_product_attention`` over jagged sequences (PyTorch's ``nested/_internal/sdpa.py``): each sequence
attends within itself. The NestedTensors are padded to dense (B, H, L, D) tensors, the keys past each sequence's
end masked out, and the output taken back with the query's structure; autograd runs through the dense op."""
from .nested_tensor import NestedTensor, _plain, like


def _torch():
    import ember
    return ember


def _validate(query, key, value, attn_mask):
    if not all(isinstance(t, NestedTensor) for t in (query, key, value)):
        raise ValueError(f"Expected query, key, and value to be nested tensors, but got query.is_nested: "
                         f"{query.is_nested}, key.is_nested: {key.is_nested}, and value.is_nested: {value.is_nested} "
                         "instead.")
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise ValueError(f"Expected query, key, and value to have the same dtype, but got query.dtype: {query.dtype}, "
                         f"key.dtype: {key.dtype}, and value.dtype: {value.dtype} instead.")
    if query.device != key.device or query.device != value.device:
        raise ValueError(f"Expected query, key, and value to have the same device type, but got query.device: "
                         f"{query.device}, key.device: {key.device}, and value.device: {value.device} instead.")
    if query.dim() < 3 or key.dim() < 3 or value.dim() < 3:
        raise ValueError(f"Expected query, key, and value to all be at least 3 dimensional, but got query.dim: "
                         f"{query.dim()}, key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if query._ragged_idx != key._ragged_idx or query._ragged_idx != value._ragged_idx:
        raise ValueError(f"Expected query, key, and value to all be ragged on the same dimension, but got ragged dims "
                         f"{query._ragged_idx}, {key._ragged_idx}, and {value._ragged_idx}, respectively.")
    if attn_mask is not None:
        raise ValueError("Masks are not yet supported!")


def _math_usable(query, key, value, is_causal):
    """PyTorch's CPU choice (its math kernel, the only one there): inputs contiguous once the ragged dim is back at
    dim 1, and no causal mask (its fused GPU kernels take one: so does ember on a GPU)."""
    from .ops_shape import _transpose
    return not is_causal and all(_transpose(None, (t, 1, 2), {})._is_contiguous_or_false() for t in (query, key, value))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """Attention of each query sequence over its own key and value sequences (the ragged dim is the sequence)."""
    _validate(query, key, value, attn_mask)
    F = _torch().nn.functional
    if query.dim() > 3 and key.dim() > 3 and value.dim() > 3 and query._ragged_idx == 1:
        out = F.scaled_dot_product_attention(_plain(query), _plain(key), _plain(value), dropout_p=dropout_p,
                                             is_causal=is_causal, scale=scale)
        return like(query, out)
    if query.device.type == "cpu" and not _math_usable(query, key, value, is_causal):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found.")
    from .padding import from_padded, key_padding_mask, to_padded
    q, k, v = (to_padded(t, 0.0) for t in (query, key, value))
    if query._ragged_idx != q.dim() - 2:   # the sequence dim must be next to last for the dense op
        q, k, v = (t.movedim(query._ragged_idx, -2) for t in (q, k, v))
    mask = key_padding_mask(key)
    mask = mask.reshape(mask.shape[0], *[1] * (q.dim() - 3), 1, mask.shape[1])
    if is_causal:
        torch = _torch()
        mask = mask & torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=mask.device).tril()
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, scale=scale,
                                         enable_gqa=enable_gqa)
    if query._ragged_idx != q.dim() - 2:
        out = out.movedim(-2, query._ragged_idx)
    return from_padded(out, query)


HANDLERS = {"scaled_dot_product_attention": lambda func, args, kwargs: scaled_dot_product_attention(*args, **kwargs)}
